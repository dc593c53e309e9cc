import ANS
import Container
import Dispatch
import Hashing
import Model

/// What a decompression did, for the command line's summary.
public struct DecompressionReport: Sendable {
  /// Bytes of the original file written.
  public var originalSize: UInt64 = 0
  /// The model that decoded the bits-back chunks, or nil when none was needed.
  public var modelName: String?
  public var imageCount: Int = 0
  public var chunkCount: Int = 0
  /// The chunks that the model decoded (the others went through zstd or were stored).
  public var bitsBackChunkCount: Int = 0
}

/// Decompresses .bba containers back to the original bytes, bit for bit.
public enum Decompressor {
  /// Decompresses a container read from `source`, handing the original file's bytes to
  /// `write` in order, chunk by chunk: memory stays bounded by a group of `threadCount` chunks,
  /// whatever the file's size.
  ///
  /// The bytes handed out are right only once this returns: the trailer, the footer and the
  /// original file's checksum are checked at the end, so a caller writes to a temporary file
  /// and keeps it only then.
  ///
  /// - Parameters:
  ///   - models: models to use besides the built-in ones (found by identity hash).
  ///   - threadCount: chunks decoded at once.
  ///   - gzipEncoding: for a container of an earlier bbans that kept a gzip file's pixels
  ///     without the encoder that rebuilds its deflate stream, the encoder to use (what
  ///     `BitsBackError.rebuildNeedsEncoding` names); nil tries the one its header suggests and
  ///     hashes what the others would make.
  ///   - progress: called after each chunk with the images (or, for opaque bytes, the bytes)
  ///     written so far and their total; for images, first with none, to give the total.
  ///   - imageProgress: called as images are decoded, with the count since the last call, from
  ///     the threads that decode the chunks (so it must be thread-safe).
  /// - Throws: `ContainerError` for a damaged or foreign container, `BitsBackError` for a model
  ///   that is not available or data that does not decode, and the IO errors of the file formats.
  public static func decompress(
    source: some ByteSource, models: [CodingModel] = [], threadCount: Int = 2,
    gzipEncoding: DeflateEncoding? = nil,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
    imageProgress: (@Sendable (_ imagesDecoded: Int) -> Void)? = nil,
    write: @escaping ([UInt8]) throws -> Void
  ) throws -> DecompressionReport {
    var reader = try ContainerReader(source: source)
    let header = reader.header
    let threads = max(1, threadCount)
    var report = DecompressionReport()
    if header.modelName.isEmpty {
      var hasher = XXH64()
      var total: UInt64 = 0
      while let (record, payload) = try reader.nextChunk() {
        try checkSizes([record])
        guard record.itemCount == 0 else {
          throw BitsBackError.implausibleSize("chunk \(record.index) claims \(record.itemCount) images in a container of opaque bytes")
        }
        let (sum, overflow) = total.addingReportingOverflow(record.rawSize)
        guard !overflow, sum <= header.originalSize else {
          throw BitsBackError.implausibleSize("the header gives the original \(header.originalSize) bytes, the chunks hold more")
        }
        let raw = try decodeOpaque(record, payload: payload)
        total = sum
        hasher.update(raw)
        try write(raw)
        report.chunkCount += 1
        progress?(Int(clamping: total), Int(clamping: header.originalSize))
      }
      guard total == header.originalSize else {
        throw BitsBackError.implausibleSize("the header gives the original \(header.originalSize) bytes, the chunks hold \(total)")
      }
      try checkOriginal(stored: reader.trailer?.originalChecksum ?? 0, computed: hasher.digest())
      report.originalSize = total
      return report
    }

    // The model is resolved only when the first bits-back chunk comes: a container whose
    // chunks all went through zstd (or were stored) decodes without it, from the header's
    // shape and side bytes.
    var model: CodingModel? = nil
    var coder: ChunkCoder? = nil
    func resolve() throws -> ChunkCoder {
      if let coder { return coder }
      let found = try resolveModel(header, extra: models)
      let a = found.architecture
      guard header.height == a.height && header.width == a.width && header.channels == a.channels else {
        throw BitsBackError.implausibleSize(
          "the header describes \(header.height)×\(header.width)×\(header.channels) images, but its model codes \(a.height)×\(a.width)×\(a.channels)")
      }
      var made = ChunkCoder(model: found.vae)
      made.onImagesCoded = imageProgress
      model = found
      coder = made
      return made
    }
    let side = try SideBytes(decoding: header.sideBytes)
    // The container bounds items × pixels per image by 2^48, but not the pixels of one image
    // when there are no items: bounded here, before any arithmetic with them.
    let (hw, o1) = UInt64(header.height).multipliedReportingOverflow(by: UInt64(header.width))
    let (perImage, o2) = hw.multipliedReportingOverflow(by: UInt64(header.channels))
    guard !o1 && !o2 && perImage <= ContainerFormat.maxPixelCount else {
      throw BitsBackError.implausibleSize(
        "the header describes images of \(header.height)×\(header.width)×\(header.channels) pixels, more than 2^48")
    }
    let pixelsPerImage = Int(perImage)
    let pixelCount = Int(header.itemCount) * pixelsPerImage  // ≤ 2^48: checked by the container
    var layout = side.layout
    var alternatives: [DeflateEncoding] = []
    if let gzip = layout.gzip, gzip.encoding == nil {
      // Written by a bbans that did not check gzip streams: the file was kept only if one of
      // today's encoders makes it. The header's XFL byte suggests GNU gzip's level.
      let xfl = gzip.header.count > 8 ? gzip.header[8] : 0
      let suggested = DeflateEncoding.gnu(level: xfl == 2 ? 9 : xfl == 4 ? 1 : 6)
      layout.gzip!.encoding = gzipEncoding ?? suggested
      if gzipEncoding == nil { alternatives = DeflateEncoding.all.filter { $0 != suggested } }
    }
    let output = try OriginalWriter(layout: layout, pixelCount: pixelCount, alternatives: alternatives, sink: write)
    var items: UInt64 = 0
    var ended = false
    progress?(0, Int(clamping: header.itemCount))  // the total, before the first chunk is done
    while !ended {
      // A group of chunks, each checked before it is decoded, then decoded at once.
      var group: [(ChunkRecord, [UInt8])] = []
      while group.count < threads {
        guard let chunk = try reader.nextChunk() else {
          ended = true
          break
        }
        let record = chunk.record
        try checkSizes([record])
        if record.method == .bitsBack { _ = try resolve() }
        let (chunkPixels, overflow) = UInt64(record.itemCount).multipliedReportingOverflow(by: UInt64(pixelsPerImage))
        if overflow || record.rawSize != chunkPixels {
          throw BitsBackError.implausibleSize(
            "chunk \(record.index) holds \(record.itemCount) images of \(pixelsPerImage) pixels, but claims \(record.rawSize) bytes")
        }
        items += UInt64(record.itemCount)
        guard items <= header.itemCount else {
          throw BitsBackError.implausibleSize("the header describes \(header.itemCount) images, the chunks hold more")
        }
        group.append(chunk)
      }
      var results = [Result<[UInt8], Error>?](repeating: nil, count: group.count)
      let coder = coder
      results.withUnsafeMutableBufferPointer { slots in
        DispatchQueue.concurrentPerform(iterations: group.count) { i in
          let (record, payload) = group[i]
          slots[i] = Result { try decodeImages(record, payload: payload, coder: coder, transform: side.transform) }
        }
      }
      for (i, result) in results.enumerated() {
        try output.write(pixels: try result!.get())
        report.imageCount += Int(group[i].0.itemCount)
        report.chunkCount += 1
        if group[i].0.method == .bitsBack { report.bitsBackChunkCount += 1 }
        progress?(report.imageCount, Int(clamping: header.itemCount))
      }
    }
    guard items == header.itemCount else {
      throw BitsBackError.implausibleSize("the header describes \(header.itemCount) images, the chunks hold \(items)")
    }
    try output.finish()
    let stored = reader.trailer?.originalChecksum ?? 0
    if output.checksum != stored, let (encoding, _) = output.alternativeChecksums.first(where: { $0.1 == stored }) {
      throw BitsBackError.rebuildNeedsEncoding(encoding)
    }
    guard output.size == header.originalSize else {
      throw BitsBackError.implausibleSize("the header gives the original \(header.originalSize) bytes, the rebuilt file has \(output.size)")
    }
    try checkOriginal(stored: stored, computed: output.checksum)
    report.originalSize = output.size
    report.modelName = model?.name
    return report
  }

  /// Whether the container keeps a gzip file's pixels without the encoder that rebuilds its
  /// deflate stream (written by bbans up to commit 743e125): decompressing it may then throw
  /// `BitsBackError.rebuildNeedsEncoding`, after a first pass that finds the encoder.
  public static func lacksGzipEncoder(_ header: ContainerHeader) throws -> Bool {
    guard !header.modelName.isEmpty else { return false }
    let layout = try SideBytes(decoding: header.sideBytes).layout
    return layout.gzip != nil && layout.gzip?.encoding == nil
  }

  /// Decompresses a container in memory.
  public static func decompress(
    _ input: [UInt8], models: [CodingModel] = [], threadCount: Int = 2,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> [UInt8] {
    var output: [UInt8] = []
    do {
      _ = try decompress(source: MemoryByteSource(input), models: models, threadCount: threadCount, progress: progress) {
        output.append(contentsOf: $0)
      }
    } catch BitsBackError.rebuildNeedsEncoding(let encoding) {
      output = []
      _ = try decompress(
        source: MemoryByteSource(input), models: models, threadCount: threadCount, gzipEncoding: encoding, progress: progress
      ) { output.append(contentsOf: $0) }
    }
    return output
  }

  static func checkOriginal(stored: UInt64, computed: UInt64) throws {
    guard computed == stored else {
      throw BitsBackError.originalChecksumMismatch(stored: stored, computed: computed)
    }
  }

  /// The model the container names: a given one with the same identity, or the built-in one
  /// (current or retired) of that identity. The name is only a hint: an archive of "mnist" made
  /// before "mnist" was retrained records the old weights' hash, which is the retired model's
  /// ("mnist-v1").
  static func resolveModel(_ header: ContainerHeader, extra: [CodingModel]) throws -> CodingModel {
    if let model = extra.first(where: { $0.identity == header.modelHash }) { return model }
    // The built-in weights of the recorded name are hashed first, then the others; one is read.
    if let model = ModelRegistry.builtin(identity: header.modelHash, preferring: header.modelName) { return model }
    if let given = extra.first {
      throw BitsBackError.modelMismatch(name: header.modelName, expected: header.modelHash, found: given.identity)
    }
    throw BitsBackError.modelUnavailable(name: header.modelName, hash: header.modelHash)
  }

  /// Refuses chunks that claim to decode to more bytes than their payload can hold: zstd
  /// expands at most `Zstd.maxExpansion` times, and the compressor writes a bits-back chunk only
  /// when it expands at most `Compressor.maxBitsBackExpansion` times. Checked for every chunk
  /// before any is decoded, so a hostile size is refused before its memory is allocated.
  static func checkSizes(_ records: [ChunkRecord]) throws {
    for record in records {
      let limit: UInt64
      switch record.method {
      case .stored: continue
      case .zstd: limit = Zstd.maxExpansion
      case .bitsBack: limit = Compressor.maxBitsBackExpansion
      }
      let (most, overflow) = record.payloadSize.multipliedReportingOverflow(by: limit)
      if !overflow && record.rawSize > most {
        throw BitsBackError.implausibleSize(
          "chunk \(record.index) (\(record.method)) claims \(record.rawSize) bytes from a payload of \(record.payloadSize), more than \(limit) times as many")
      }
    }
  }

  static func decodeOpaque(_ record: ChunkRecord, payload: [UInt8]) throws -> [UInt8] {
    let raw: [UInt8]
    switch record.method {
    case .stored: raw = payload
    case .zstd: raw = try Zstd.decompress(payload, expectedSize: Int(record.rawSize))
    case .bitsBack: throw BitsBackError.corruptChunk(index: record.index, reason: "a bits-back chunk in a container that names no model")
    }
    try record.checkDecoded(raw)
    return raw
  }

  static func decodeImages(
    _ record: ChunkRecord, payload: [UInt8], coder: ChunkCoder?, transform: PixelTransform
  ) throws -> [UInt8] {
    guard record.method == .bitsBack else { return try decodeOpaque(record, payload: payload) }
    guard let coder else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "a bits-back chunk came before its model was resolved")
    }
    let imageCount = Int(record.itemCount)
    guard record.rawSize == UInt64(imageCount) * UInt64(coder.pixelCount) else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "\(imageCount) images of \(coder.pixelCount) pixels cannot make \(record.rawSize) bytes")
    }
    guard payload.count % 4 == 0 else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "its payload of \(payload.count) bytes is not a whole number of 32-bit words")
    }
    guard record.laneCount >= 1 && Int(record.laneCount) <= max(1, imageCount) else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "\(record.laneCount) lanes for \(imageCount) images")
    }
    var words = [UInt32](repeating: 0, count: payload.count / 4)
    for i in words.indices {
      words[i] = UInt32(payload[4 * i]) | UInt32(payload[4 * i + 1]) << 8
        | UInt32(payload[4 * i + 2]) << 16 | UInt32(payload[4 * i + 3]) << 24
    }
    var message: ANSMessage
    do {
      message = try ANSMessage(words: words, laneCount: Int(record.laneCount))
    } catch {
      throw BitsBackError.corruptChunk(index: record.index, reason: error.description)
    }
    var symbols = [UInt8](repeating: 0, count: Int(record.rawSize))
    let plausible = symbols.withUnsafeMutableBufferPointer { coder.decode(&message, imageCount: imageCount, into: $0) }
    guard plausible else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "its message's count of one-lane-at-a-time steps is not the encoder's")
    }
    guard message.isEmpty else {
      throw BitsBackError.corruptChunk(index: record.index, reason: "its message did not decode to empty (\(message.bitCount) bits left)")
    }
    let raw = transform.inverse(symbols)
    try record.checkDecoded(raw)
    return raw
  }
}
