import Container
import Hashing

/// A seeded SplitMix64, so that every test run sees the same data.
struct SeededRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
  mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// A chunk as a test writes it: the record the caller gives and the payload.
struct TestChunk {
  var record: ChunkRecord
  var payload: [UInt8]
}

/// A random chunk of `method` with a payload of up to `maxSize` bytes.
func randomChunk(_ method: ChunkMethod, maxSize: Int, random: inout SeededRandom) -> TestChunk {
  let payload = random.bytes(random.below(maxSize + 1))
  switch method {
  case .stored:
    return TestChunk(
      record: ChunkRecord(method: .stored, rawSize: UInt64(payload.count), rawChecksum: XXH64.hash(payload)),
      payload: payload)
  case .zstd, .bitsBack:
    let record = ChunkRecord(
      method: method, itemCount: UInt32(random.below(1000)),
      laneCount: method == .bitsBack ? UInt16(1 + random.below(64)) : 0,
      initialBits: method == .bitsBack ? UInt32(random.below(100_000)) : 0,
      rawSize: UInt64(random.below(1 << 20)), rawChecksum: random.next())
    return TestChunk(record: record, payload: payload)
  }
}

/// A container's bytes, written through a sink that collects them.
func writeContainer(_ header: ContainerHeader, _ chunks: [TestChunk], originalChecksum: UInt64 = 0x1234) throws -> [UInt8] {
  let output = ByteBox()
  var writer = try ContainerWriter(header: header) { output.bytes += $0 }
  for chunk in chunks {
    try writer.append(chunk.record, payload: chunk.payload)
  }
  try writer.finish(originalChecksum: originalChecksum)
  return output.bytes
}

/// Reads a whole container; returns the header, each chunk and the trailer.
func readContainer(
  _ source: some ByteSource
) throws -> (ContainerHeader, [(ChunkRecord, [UInt8])], ContainerTrailer) {
  var reader = try ContainerReader(source: source)
  var chunks: [(ChunkRecord, [UInt8])] = []
  while let chunk = try reader.nextChunk() {
    chunks.append(chunk)
  }
  return (reader.header, chunks, reader.trailer!)
}

/// Collects the writer's output (the sink closure escapes).
final class ByteBox {
  var bytes: [UInt8] = []
}

/// A source like a pipe: it does not know its length and hands out pieces of random size.
struct PipeSource: ByteSource {
  var bytes: [UInt8]
  var position = 0
  var random: SeededRandom

  init(_ bytes: [UInt8], seed: UInt64) {
    self.bytes = bytes
    random = SeededRandom(seed: seed)
  }

  mutating func read(upTo maxCount: Int) throws -> [UInt8] {
    let count = min(maxCount, bytes.count - position, 1 + random.below(97))
    defer { position += count }
    return Array(bytes[position..<(position + count)])
  }

  var remainingByteCount: UInt64? { nil }
}

/// A small container with two chunks, used by the corruption tables.
func smallContainer() throws -> [UInt8] {
  let header = ContainerHeader(
    modelName: "m", modelHash: 0xABCD, formatTag: 1, itemCount: 3, height: 2, width: 2,
    channels: 1, sideBytes: [1, 2, 3, 4, 5], originalSize: 29)
  let stored: [UInt8] = Array(0..<10)
  return try writeContainer(header, [
    TestChunk(record: ChunkRecord(method: .stored, rawSize: 10, rawChecksum: XXH64.hash(stored)), payload: stored),
    TestChunk(
      record: ChunkRecord(method: .bitsBack, itemCount: 3, laneCount: 1, initialBits: 40, rawSize: 12, rawChecksum: 7),
      payload: [9, 8, 7, 6, 5, 4, 3]),
  ])
}

/// Writes a little-endian integer into `bytes` at `offset`.
func poke<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ offset: Int, _ value: T) {
  for i in 0..<(T.bitWidth / 8) {
    bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i))
  }
}

/// Recomputes the checksum of the structure `bytes[start..<end]` (checksum in its last 8
/// bytes), so that a test can plant a hostile value that only the field checks catch.
func resealed(_ bytes: [UInt8], start: Int, end: Int) -> [UInt8] {
  var out = bytes
  poke(&out, end - 8, XXH64.hash(out[start..<(end - 8)]))
  return out
}

/// Header bytes with any field values, sealed with a valid checksum.
func forgedHeader(
  major: UInt16 = 1, minor: UInt16 = 0, length: UInt32? = nil, name: [UInt8] = [],
  itemCount: UInt64 = 0, height: UInt32 = 0, width: UInt32 = 0, channels: UInt32 = 0,
  sideLength: UInt32? = nil, side: [UInt8] = [], extra: [UInt8] = []
) -> [UInt8] {
  var bytes: [UInt8] = [0x89, 0x42, 0x42, 0x41, 0x0D, 0x0A, 0x1A, 0x0A]
  func put<T: FixedWidthInteger>(_ value: T) {
    for i in 0..<(T.bitWidth / 8) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
  }
  put(major); put(minor)
  put(length ?? UInt32(66 + name.count + side.count + extra.count))
  put(UInt8(name.count)); bytes += name
  put(UInt64(0)); put(UInt8(0))
  put(itemCount); put(height); put(width); put(channels)
  put(UInt64(0))
  put(sideLength ?? UInt32(side.count)); bytes += side
  bytes += extra
  put(XXH64.hash(bytes))
  return bytes
}
