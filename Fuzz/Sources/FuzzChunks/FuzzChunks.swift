import BitsBack
import Container
import Foundation
import Model

/// The models of the golden files (see FuzzContainer), or a tiny random one when they are absent,
/// each with side bytes that describe its images.
let models: [(CodingModel, [UInt8])] = {
  let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata/golden")
  let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
  let found = files.filter { $0.hasSuffix(".bbm") }.sorted().compactMap { try? ModelRegistry.model(namedOrPath: folder.appendingPathComponent($0).path) }
  if !found.isEmpty { return found.map { ($0, sideBytes(folder)) } }
  let architecture = Architecture(height: 4, width: 4, encoderHidden: [8], decoderHidden: [8], latentCount: 2, bucketBits: 8, likelihood: .betaBinomial)
  let vae = VAE(randomWith: architecture, seed: 1, name: "fuzz")
  return [(CodingModel(name: "fuzz", vae: vae, fileSize: vae.serialized().count), [])]
}()

/// The side bytes of a golden container (an IDX file's layout), so that inputs can reach the
/// BB-ANS decoder without having to find a valid layout first.
func sideBytes(_ folder: URL) -> [UInt8] {
  guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("images-binary.idx.bba").path),
    let summary = try? ContainerReader.inspect([UInt8](data))
  else { return [] }
  return summary.header.sideBytes
}

/// The fuzzer's bytes read as the fields of a container, which is then written with valid
/// checksums: unlike FuzzContainer, hostile counts, sizes, lane numbers and payloads get past
/// the checksums to the decoders. Past the end of the input every field reads as zero.
///
/// Layout: flags (1: a model, whose index follows; 2: the model's image shape, else 3 bytes of
/// shape; 4: the golden side bytes, else a length byte and the bytes), format tag, item count
/// (u32), original size (u32), original checksum (u64), then chunks: method, item count (u16),
/// lanes (u8), raw size (u32), raw checksum (u64), payload length (u16, mod 4096), payload.
struct Fields {
  let bytes: [UInt8]
  var position = 0
  mutating func u8() -> UInt8 { defer { position += 1 }; return position < bytes.count ? bytes[position] : 0 }
  mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
  mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
  mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
  mutating func raw(_ count: Int) -> [UInt8] { (0..<count).map { _ in u8() } }
  var atEnd: Bool { position >= bytes.count }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunks(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var fields = Fields(bytes: Array(UnsafeBufferPointer(start: data, count: size)))
  let flags = fields.u8()
  let chosen = (flags & 1) != 0 ? models[Int(fields.u8()) % models.count] : nil
  let model = chosen?.0
  let a = model?.architecture
  // Flag 2: the model's own image shape (what a real file has); otherwise the input's.
  let shape = (flags & 2) != 0 && a != nil
    ? (UInt32(a!.height), UInt32(a!.width), UInt32(a!.channels))
    : (UInt32(fields.u8()), UInt32(fields.u8()), UInt32(fields.u8()))
  let formatTag = fields.u8()
  let itemCount = UInt64(fields.u32())
  let side = (flags & 4) != 0 && chosen != nil ? chosen!.1 : fields.raw(Int(fields.u8()))
  let header = ContainerHeader(
    modelName: model?.name ?? "", modelHash: model?.identity ?? 0, formatTag: formatTag,
    itemCount: itemCount, height: shape.0, width: shape.1, channels: shape.2,
    sideBytes: side, originalSize: UInt64(fields.u32()))
  let originalChecksum = fields.u64()
  var container: [UInt8] = []
  var decodedPixels: UInt64 = 0
  do {
    var writer = try ContainerWriter(header: header) { container.append(contentsOf: $0) }
    while !fields.atEnd && writer.chunkCount < 64 {
      let method = ChunkMethod(rawValue: fields.u8() % 3)!
      var record = ChunkRecord(
        method: method, itemCount: UInt32(fields.u16()), laneCount: UInt16(fields.u8()),
        rawSize: UInt64(fields.u32()), rawChecksum: fields.u64())
      let payload = fields.raw(Int(fields.u16() % 4096))
      if method == .stored { record.rawSize = UInt64(payload.count) }
      // What the writer (and reader) refuse is not worth an input: lanes on opaque chunks,
      // items in a container that names no model.
      if method != .bitsBack { record.laneCount = 0 }
      if model == nil { record.itemCount = 0 }
      if method == .bitsBack && record.rawSize <= Compressor.maxBitsBackExpansion * UInt64(payload.count) {
        decodedPixels += record.rawSize
      }
      _ = try writer.append(record, payload: payload)
    }
    _ = try writer.finish(originalChecksum: originalChecksum)
  } catch {
    return 0  // The writer refuses what a reader would refuse.
  }
  // Claims within the limits are decoded in full, which takes seconds for a megapixel in this
  // instrumented build: kept to 8 Ki pixels, so that the fuzzer tries many inputs rather than
  // a few large ones (the limits themselves have their tests).
  if decodedPixels > 1 << 13 { return 0 }
  _ = try? Decompressor.decompress(container, models: models.map(\.0), threadCount: 1)
  return 0
}
