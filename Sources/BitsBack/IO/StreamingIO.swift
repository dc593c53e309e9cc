import Hashing

/// The compressor's second pass: the input's bytes as the image format sees them (inflated when
/// the file is gzip), read in pieces of a size the caller asks for. It hashes the input's raw
/// bytes again, so that a file changed between the two passes is caught (`checkUnchanged`).
final class PlainReader<Input: CompressionInput> {
  private var input: Input
  private var hasher = XXH64()
  private var rawCount: UInt64 = 0
  private let inflater: Inflater?
  private var raw = [UInt8](repeating: 0, count: InputScan.pieceSize)
  private var rawStart = 0
  private var rawEnd = 0
  /// Inflated bytes not handed out yet.
  private var pending: [UInt8] = []
  private var pendingStart = 0
  private var inputEnded = false

  /// - Parameter gzipHeaderSize: for a gzip file, its member header's size (from the scan).
  init(_ input: Input, gzipHeaderSize: Int?) throws {
    self.input = input
    try self.input.rewind()
    inflater = gzipHeaderSize == nil ? nil : try Inflater()
    if let skip = gzipHeaderSize {
      var skipped = 0
      while skipped < skip {
        try fill()
        guard rawEnd > rawStart else { throw IOError.malformed(format: "gzip", reason: "the header is truncated") }
        let take = min(skip - skipped, rawEnd - rawStart)
        rawStart += take
        skipped += take
      }
    }
  }

  private func fill() throws {
    guard rawStart == rawEnd, !inputEnded else { return }
    let count = try raw.withUnsafeMutableBytes { try input.read(into: $0) }
    rawStart = 0
    rawEnd = count
    if count == 0 { inputEnded = true }
    raw.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    rawCount += UInt64(count)
  }

  /// The next `count` bytes, or fewer at the end.
  func read(_ count: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count {
      if pendingStart < pending.count {
        let take = min(count - out.count, pending.count - pendingStart)
        out.append(contentsOf: pending[pendingStart..<(pendingStart + take)])
        pendingStart += take
        continue
      }
      try fill()
      if rawStart == rawEnd { break }
      guard let inflater else {
        let take = min(count - out.count, rawEnd - rawStart)
        out.append(contentsOf: raw[rawStart..<(rawStart + take)])
        rawStart += take
        continue
      }
      if inflater.ended {
        rawStart = rawEnd  // the trailer: checked by the first pass, hashed here
        continue
      }
      pending = []
      pendingStart = 0
      let taken = try raw.withUnsafeBytes { all in
        try inflater.inflate(UnsafeRawBufferPointer(rebasing: all[rawStart..<rawEnd]), maxPieces: 1) { _, content in
          pending.append(contentsOf: content)
        }
      }
      rawStart += taken
    }
    return out
  }

  /// Reads the rest of the input and checks that it is the one the first pass saw.
  /// - Throws: `BitsBackError.inputChanged`.
  func checkUnchanged(size: UInt64, checksum: UInt64) throws {
    while true {
      if rawStart < rawEnd { rawStart = rawEnd }
      try fill()
      if rawStart == rawEnd { break }
    }
    guard rawCount == size && hasher.digest() == checksum else {
      throw BitsBackError.inputChanged(firstSize: size, secondSize: rawCount)
    }
  }
}

/// The decompressor's output: the original file rebuilt from its layout and decoded pixels as
/// they come, chunk by chunk (through the gzip encoder when the file was gzip), hashed as it
/// goes.
final class OriginalWriter {
  private let layout: FileLayout
  private let sink: ([UInt8]) throws -> Void
  private let deflater: DeflateStream?
  private var hasher = XXH64()
  /// Other encoders whose output is only hashed, to find the one that rebuilds a gzip stream
  /// that a container of an earlier bbans recorded without its encoder.
  private var alternatives: [(encoding: DeflateEncoding, stream: DeflateStream, hasher: XXH64)] = []
  /// Bytes handed to the sink.
  private(set) var size: UInt64 = 0
  /// The pixel bytes of one run (one per prefix), and how many of them have been written.
  private let runLength: Int
  private var pixelsWritten = 0
  private var buffer: [UInt8] = []

  /// - Parameter alternatives: encoders to hash beside the layout's (`alternativeChecksums`).
  /// - Throws: `IOError.notReproducible` for a gzip layout with no encoding.
  init(
    layout: FileLayout, pixelCount: Int, alternatives: [DeflateEncoding] = [],
    sink: @escaping ([UInt8]) throws -> Void
  ) throws {
    self.layout = layout
    self.sink = sink
    if let gzip = layout.gzip {
      guard let encoding = gzip.encoding else {
        throw IOError.notReproducible(reason: "no encoder bbans knows makes the file's deflate stream")
      }
      deflater = try encoding.makeStream()
      for other in alternatives {
        var hasher = XXH64()
        hasher.update(gzip.header)
        self.alternatives.append((other, try other.makeStream(), hasher))
      }
    } else {
      deflater = nil
    }
    let runs = layout.prefixes.count
    if runs == 0 {
      guard pixelCount == 0 else {
        throw IOError.layoutMismatch(reason: "the layout has no run for \(pixelCount) pixel bytes")
      }
      runLength = 0
    } else {
      guard pixelCount % runs == 0 else {
        throw IOError.layoutMismatch(reason: "\(pixelCount) pixel bytes do not split into \(runs) equal runs")
      }
      runLength = pixelCount / runs
    }
    if let gzip = layout.gzip { try emit(gzip.header) }
    if runLength == 0 {
      for prefix in layout.prefixes { try plain(prefix) }
    }
  }

  /// The next pixels, in file order.
  func write(pixels: [UInt8]) throws {
    var offset = 0
    while offset < pixels.count {
      let run = pixelsWritten / runLength
      let inRun = pixelsWritten % runLength
      if inRun == 0 {
        guard run < layout.prefixes.count else {
          throw IOError.layoutMismatch(reason: "more pixel bytes than the layout's \(layout.prefixes.count) runs hold")
        }
        try plain(layout.prefixes[run])
      }
      let take = min(pixels.count - offset, runLength - inRun)
      try plain(pixels[offset..<(offset + take)])
      offset += take
      pixelsWritten += take
    }
  }

  /// Writes the suffix, ends the gzip stream and its trailer, and flushes.
  func finish() throws {
    try plain(layout.suffix)
    if let deflater {
      try deflater.finish { try self.out($0) }
      try flush()
      try emit(layout.gzip!.trailer)
      for i in alternatives.indices {
        try alternatives[i].stream.finish { alternatives[i].hasher.update($0) }
        alternatives[i].hasher.update(layout.gzip!.trailer)
      }
    } else {
      try flush()
    }
  }

  /// The XXH64 of everything written.
  var checksum: UInt64 { hasher.digest() }

  /// The XXH64 of the file each alternative encoder would have made, after `finish`.
  var alternativeChecksums: [(DeflateEncoding, UInt64)] { alternatives.map { ($0.encoding, $0.hasher.digest()) } }

  private func plain(_ bytes: some Collection<UInt8>) throws {
    guard !bytes.isEmpty else { return }
    guard let deflater else {
      buffer.append(contentsOf: bytes)
      if buffer.count >= 1 << 20 { try flush() }
      return
    }
    try Array(bytes).withUnsafeBytes { piece in
      try deflater.compress(piece) { try self.out($0) }
      for i in alternatives.indices {
        try alternatives[i].stream.compress(piece) { alternatives[i].hasher.update($0) }
      }
    }
  }

  private func out(_ bytes: UnsafeRawBufferPointer) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 20 { try flush() }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    let bytes = buffer
    buffer = []
    try emit(bytes)
  }

  private func emit(_ bytes: [UInt8]) throws {
    guard !bytes.isEmpty else { return }
    bytes.withUnsafeBytes { hasher.update($0) }
    size += UInt64(bytes.count)
    try sink(bytes)
  }
}
