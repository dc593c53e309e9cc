import ANS
import Container
import Dispatch
import Hashing
import Model

/// Decompresses .bba containers back to the original bytes, bit for bit.
public enum Decompressor {
  /// Decompresses a container.
  ///
  /// - Parameters:
  ///   - models: models to use besides the built-in ones (found by identity hash).
  ///   - threadCount: chunks decoded at once.
  /// - Throws: `ContainerError` for a damaged or foreign container, `BitsBackError` for a model
  ///   that is not available or data that does not decode, and the IO errors of the file formats.
  public static func decompress(
    _ input: [UInt8], models: [CodingModel] = [], threadCount: Int = 2,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> [UInt8] {
    var reader = try ContainerReader(source: MemoryByteSource(input))
    let header = reader.header
    var records: [(ChunkRecord, [UInt8])] = []
    while let chunk = try reader.nextChunk() { records.append(chunk) }
    let originalChecksum = reader.trailer?.originalChecksum ?? 0
    try checkSizes(records.map(\.0))

    let output: [UInt8]
    if header.modelName.isEmpty {
      let total = records.reduce(UInt64(0)) { $0 + $1.0.rawSize }
      guard total == header.originalSize else {
        throw BitsBackError.implausibleSize("the header gives the original \(header.originalSize) bytes, the chunks hold \(total)")
      }
      var bytes: [UInt8] = []
      bytes.reserveCapacity(Int(total))
      for (record, payload) in records {
        bytes.append(contentsOf: try decodeOpaque(record, payload: payload))
        progress?(bytes.count, Int(clamping: header.originalSize))
      }
      output = bytes
    } else {
      let model = try resolveModel(header, extra: models)
      try checkImageSizes(header, records.map(\.0), model: model.architecture)
      let side = try SideBytes(decoding: header.sideBytes)
      let coder = ChunkCoder(model: model.vae)
      var pixels: [UInt8] = []
      var done = 0
      for groupStart in stride(from: 0, to: records.count, by: max(1, threadCount)) {
        let group = groupStart..<min(groupStart + max(1, threadCount), records.count)
        var results = [Result<[UInt8], Error>?](repeating: nil, count: group.count)
        results.withUnsafeMutableBufferPointer { slots in
          DispatchQueue.concurrentPerform(iterations: group.count) { i in
            let (record, payload) = records[group.lowerBound + i]
            slots[i] = Result { try decodeImages(record, payload: payload, coder: coder, transform: side.transform) }
          }
        }
        for (i, result) in results.enumerated() {
          pixels.append(contentsOf: try result!.get())
          done += Int(records[group.lowerBound + i].0.itemCount)
          progress?(done, Int(clamping: header.itemCount))
        }
      }
      let images = ImageBatch(
        count: Int(header.itemCount), height: Int(header.height), width: Int(header.width),
        channels: Int(header.channels), pixels: pixels)
      guard images.count * images.height * images.width * images.channels == pixels.count else {
        throw BitsBackError.corruptSideBytes("the chunks hold \(pixels.count) pixels, the header describes \(images.count) images of \(images.height)×\(images.width)×\(images.channels)")
      }
      output = try DatasetFile.rebuild(images, layout: side.layout)
    }
    let computed = XXH64.hash(output)
    guard computed == originalChecksum else {
      throw BitsBackError.originalChecksumMismatch(stored: originalChecksum, computed: computed)
    }
    return output
  }

  /// The model the container names: a given one with the same identity, or the built-in one.
  static func resolveModel(_ header: ContainerHeader, extra: [CodingModel]) throws -> CodingModel {
    if let model = extra.first(where: { $0.identity == header.modelHash }) { return model }
    // The built-in model of the recorded name first (one model read), then any with that hash.
    if let model = ModelRegistry.builtin(named: header.modelName), model.identity == header.modelHash { return model }
    if let model = ModelRegistry.builtin(identity: header.modelHash) { return model }
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

  /// Checks, before decoding, that the header's image shape is the model's and that the
  /// chunks' item counts and raw sizes add up to the header's images.
  static func checkImageSizes(_ header: ContainerHeader, _ records: [ChunkRecord], model a: Architecture) throws {
    guard header.height == a.height && header.width == a.width && header.channels == a.channels else {
      throw BitsBackError.implausibleSize(
        "the header describes \(header.height)×\(header.width)×\(header.channels) images, but its model codes \(a.height)×\(a.width)×\(a.channels)")
    }
    let items = records.reduce(UInt64(0)) { $0 + UInt64($1.itemCount) }
    guard items == header.itemCount else {
      throw BitsBackError.implausibleSize("the header describes \(header.itemCount) images, the chunks hold \(items)")
    }
    for record in records where record.rawSize != UInt64(record.itemCount) * UInt64(a.pixelCount) {
      throw BitsBackError.implausibleSize(
        "chunk \(record.index) holds \(record.itemCount) images of \(a.pixelCount) pixels, but claims \(record.rawSize) bytes")
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
    _ record: ChunkRecord, payload: [UInt8], coder: ChunkCoder, transform: PixelTransform
  ) throws -> [UInt8] {
    guard record.method == .bitsBack else { return try decodeOpaque(record, payload: payload) }
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
