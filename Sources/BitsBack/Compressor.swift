import ANS
import Container
import Dispatch
import Hashing
import Model

/// How to compress.
public struct CompressionOptions: Sendable {
  /// Which model codes the images: chosen from the data, or named.
  public var model: ModelChoice = .automatic
  /// Chunks are coded on this many threads at once (the output does not depend on it).
  public var threadCount: Int = 2
  /// Images per chunk; nil picks one chunk per thread, at most `maxDefaultChunkImages` each.
  public var chunkImageCount: Int? = nil
  /// The most BB-ANS chains side by side in a chunk (the networks run on this many images at
  /// once). A chunk uses fewer when it has under `minImagesPerLane` images per lane: each lane
  /// costs its 64-bit head, which small chunks should not pay 32 times.
  public var laneCount: Int = 32
  /// Called as images are coded with bits-back, with the count since the last call (a few
  /// images at a time), for a progress display finer than `compress`'s `progress`, which is
  /// called once per chunk. It is called from the threads that code the chunks, so it must be
  /// thread-safe. The output does not depend on it.
  public var imageProgress: (@Sendable (_ imagesCoded: Int) -> Void)? = nil

  /// The fewest images per lane a chunk is given (below 16 × laneCount images, fewer lanes):
  /// a lane's head costs at most 64 / (16 × 784) ≈ 0.005 bits/dim of an MNIST image.
  public static let minImagesPerLane = 16

  /// The lanes a chunk of `imageCount` images uses.
  public func lanes(forImages imageCount: Int) -> Int {
    max(1, min(laneCount, imageCount / Self.minImagesPerLane))
  }
  /// The zstd level of what goes through zstd: data no model fits, and chunks of images that
  /// zstd codes smaller than bits-back (the choice is made at a fast level, the chunk written
  /// at this one). 19 by default, as `zstd -19`.
  public var zstdLevel: Int = 19

  public static let maxDefaultChunkImages = 8192

  public init() {}
}

/// The model for a compression.
public enum ModelChoice: Sendable {
  /// The built-in model that fits the data best (shape, binary or 8-bit, rate on a sample).
  case automatic
  /// This model, whatever the data (an error if it does not fit).
  case model(CodingModel)
}

/// What a compression did, for the command line's summary and `bbans bench`.
public struct CompressionReport: Sendable {
  public var originalSize: Int
  public var compressedSize: Int = 0
  /// The model used, or nil when the data went through zstd.
  public var modelName: String?
  public var imageCount: Int = 0
  public var pixelCount: Int = 0
  public var chunks: [ChunkRecord] = []
  /// Things the user should know (e.g. why the model was not used).
  public var notes: [String] = []
  /// The initial-bit cost over all bits-back chunks.
  public var initialBits: Int { chunks.reduce(0) { $0 + Int($1.initialBits) } }
}

/// Compresses files into the .bba container.
public enum Compressor {
  /// The most raw bytes a bits-back chunk may hold per payload byte (256: 1/32 bit per 8-bit
  /// pixel). A chunk that would compress better goes through zstd instead (such data is nearly
  /// constant, which zstd codes well), and the decompressor refuses a bits-back chunk that
  /// claims more, before allocating its pixels.
  public static let maxBitsBackExpansion: UInt64 = 256

  /// Compresses `input`, handing the container's bytes to `write` piece by piece.
  ///
  /// Images (IDX, NPY, PGM, each possibly gzipped; see `DatasetFile`) are coded with bits-back
  /// when a model fits; any other bytes, and any chunk that zstd codes smaller, go through zstd.
  ///
  /// The input is read twice (`CompressionInput`), and never held whole: memory stays bounded
  /// by a group of chunks (`threadCount` of them) whatever the input's size. The first pass
  /// (`InputScan`) learns what the file is and checks that everything around its pixels comes
  /// back byte for byte: the container is never one that the decompressor cannot decode.
  /// `progress` is called after each chunk with what is done and the total: images, for images
  /// (then it is called first with none done, to give the total), or bytes.
  /// - Throws: `BitsBackError.modelDoesNotFit` for a named model that does not fit,
  ///   `BitsBackError.inputChanged` when the input changed between the two passes, the input's
  ///   and `write`'s errors.
  public static func compress<Input: CompressionInput>(
    _ input: inout Input, options: CompressionOptions = CompressionOptions(),
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
    write: @escaping ([UInt8]) throws -> Void
  ) throws -> CompressionReport {
    let scan = try InputScan.scan(&input)
    var report = CompressionReport(originalSize: Int(clamping: scan.originalSize))
    report.notes = scan.notes
    var written = 0
    let sink: ([UInt8]) throws -> Void = { bytes in
      written += bytes.count
      try write(bytes)
    }
    var plan: Plan? = nil
    if let images = scan.images {
      plan = try choosePlan(images: images, options: options, notes: &report.notes)
    }
    if let plan {
      report.modelName = plan.model.name
      report.imageCount = plan.images.count
      report.pixelCount = plan.images.count * plan.images.pixelsPerImage
      report.chunks = try compressImages(plan, input: input, scan: scan, options: options, progress: progress, sink: sink)
    } else {
      report.chunks = try compressOpaque(input, scan: scan, options: options, progress: progress, sink: sink)
    }
    report.compressedSize = written
    return report
  }

  /// Compresses `input` in memory, handing the container's bytes to `write` piece by piece.
  public static func compress(
    _ input: [UInt8], options: CompressionOptions = CompressionOptions(),
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
    write: @escaping ([UInt8]) throws -> Void
  ) throws -> CompressionReport {
    var source = MemoryInput(input)
    return try compress(&source, options: options, progress: progress, write: write)
  }

  /// Compresses `input` into a container in memory.
  public static func compress(_ input: [UInt8], options: CompressionOptions = CompressionOptions()) throws -> [UInt8] {
    var output: [UInt8] = []
    _ = try compress(input, options: options) { output.append(contentsOf: $0) }
    return output
  }

  // MARK: - Images

  /// The images, how to rebuild the file around them, and the model that codes them.
  struct Plan {
    let images: ScannedImages
    let model: CodingModel
    let transform: PixelTransform
  }

  static func choosePlan(images: ScannedImages, options: CompressionOptions, notes: inout [String]) throws -> Plan? {
    let binary = images.binaryTransform
    switch options.model {
    case .model(let model):
      let a = model.architecture
      guard a.height == images.height && a.width == images.width && a.channels == images.channels else {
        throw BitsBackError.modelDoesNotFit(
          model: model.name,
          reason: "it takes \(a.height)×\(a.width)×\(a.channels) images, the data has \(images.height)×\(images.width)×\(images.channels)")
      }
      if a.likelihood == .bernoulli && binary == nil {
        throw BitsBackError.modelDoesNotFit(model: model.name, reason: "it codes binary images, and the data has other values than 0 and 1 (or 0 and 255)")
      }
      return Plan(images: images, model: model, transform: a.likelihood == .bernoulli ? binary! : .identity)
    case .automatic:
      guard images.count > 0 else { return nil }
      let transform = binary ?? .identity
      guard let best = bestBuiltin(for: images, binary: binary != nil, transform: transform) else {
        notes.append(noModelNote(images, binary: binary != nil))
        return nil
      }
      return Plan(images: images, model: best, transform: transform)
    }
  }

  /// Why no built-in model codes the images, in one line: an (N, 784) array that a built-in
  /// model would take as (N, 28, 28), or a shape none takes.
  static func noModelNote(_ images: ScannedImages, binary: Bool) -> String {
    let kind = binary ? " binary" : ""
    if images.height == 1 && images.channels == 1 {
      let side = Int(Double(images.width).squareRoot().rounded())
      // The shortest name of a context model ("mnist" before "fashion-mnist" and "mnist-plain").
      let fitting = ModelRegistry.builtinNames.filter { name in
        guard let a = ModelRegistry.builtinArchitecture(named: name) else { return false }
        return a.height == side && a.width == side && a.channels == 1 && (a.likelihood == .bernoulli) == binary
      }.min { ($0.hasSuffix("-plain") ? 1 : 0, $0.count) < ($1.hasSuffix("-plain") ? 1 : 0, $1.count) }
      if side * side == images.width, let fitting {
        return "an (N, \(images.width)) array: reshape to (N, \(side), \(side)) to use model \(fitting)"
      }
    }
    return "no built-in model for \(images.height)×\(images.width)×\(images.channels)\(kind) images; train one with bbans train"
  }

  /// The built-in model that fits the images (shape; binary or 8-bit) and codes the first of
  /// them (up to 64) in the fewest bits. A factorized model ("-plain") is chosen only by name
  /// when a context model fits too: on data like their own, the context models code better.
  /// The models are read one at a time, so at most two are in memory at once.
  static func bestBuiltin(for images: ScannedImages, binary: Bool, transform: PixelTransform) -> CodingModel? {
    let sampleCount = images.pixelsPerImage == 0 ? 0 : images.sample.count / images.pixelsPerImage
    let sample = transform.forward(images.sample)
    func sampleBits(_ model: CodingModel) -> Int {
      sample.withUnsafeBufferPointer {
        ChunkCoder(model: model.vae).encode($0, imageCount: sampleCount, laneCount: 8).bitCount
      }
    }
    var best: (model: CodingModel, bits: Int?)?
    for name in ModelRegistry.builtinNames {
      // The shape and head from the file's first bytes: a model that does not fit is not read.
      guard let a = ModelRegistry.builtinArchitecture(named: name),
        a.height == images.height && a.width == images.width && a.channels == images.channels
          && (a.likelihood == .bernoulli) == binary else { continue }
      if a.context == nil, let current = best, current.model.architecture.context != nil { continue }
      guard let model = ModelRegistry.builtin(named: name) else { continue }
      guard let current = best else {
        best = (model, nil)  // the sample is coded only if another model competes
        continue
      }
      let isContext = a.context != nil, bestIsContext = current.model.architecture.context != nil
      if isContext && !bestIsContext {
        best = (model, nil)
        continue
      }
      let bestBits = current.bits ?? sampleBits(current.model)
      let bits = sampleBits(model)
      best = bits < bestBits ? (model, bits) : (current.model, bestBits)
    }
    return best?.model
  }

  static func compressImages<Input: CompressionInput>(
    _ plan: Plan, input: Input, scan: InputScan, options: CompressionOptions,
    progress: ((Int, Int) -> Void)?, sink: @escaping ([UInt8]) throws -> Void
  ) throws -> [ChunkRecord] {
    let images = plan.images
    let header = ContainerHeader(
      modelName: plan.model.name, modelHash: plan.model.identity, formatTag: images.format.rawValue,
      itemCount: UInt64(images.count), height: UInt32(images.height), width: UInt32(images.width),
      channels: UInt32(images.channels), sideBytes: SideBytes(transform: plan.transform, layout: images.layout).encoded(),
      originalSize: scan.originalSize)
    var writer = try ContainerWriter(header: header, sink: sink)
    let pixelsPerImage = images.pixelsPerImage
    let threads = max(1, options.threadCount)
    let perChunk = max(1, options.chunkImageCount ?? Self.defaultChunk(images.count))
    let chunkCount = images.count == 0 ? 0 : (images.count - 1) / perChunk + 1
    var coder = ChunkCoder(model: plan.model.vae)
    coder.onImagesCoded = options.imageProgress
    // IDX and NPY pixels are read again (the second pass); a PGM file's were kept.
    let reader: PlainReader<Input>? = images.keptPixels == nil ? try PlainReader(input, gzipHeaderSize: scan.gzipHeaderSize) : nil
    if let reader {
      let prefix = images.layout.prefixes.first ?? []
      guard try reader.read(prefix.count) == prefix else {
        throw BitsBackError.inputChanged(firstSize: scan.originalSize, secondSize: nil)
      }
    }
    var records: [ChunkRecord] = []
    var done = 0
    progress?(0, images.count)  // the total, before the first chunk is done
    // Chunks in groups of `threads`: read, coded at once, written in order; memory stays bounded.
    for groupStart in stride(from: 0, to: chunkCount, by: threads) {
      let group = groupStart..<min(groupStart + threads, chunkCount)
      let firstImage = group.lowerBound * perChunk
      let imageCount = min(group.count * perChunk, images.count - firstImage)
      let pixels: [UInt8]
      if let reader {
        pixels = try reader.read(imageCount * pixelsPerImage)
        guard pixels.count == imageCount * pixelsPerImage else {
          throw BitsBackError.inputChanged(firstSize: scan.originalSize, secondSize: nil)
        }
      } else {
        pixels = Array(images.keptPixels![(firstImage * pixelsPerImage)..<((firstImage + imageCount) * pixelsPerImage)])
      }
      var results = [(ChunkRecord, [UInt8])?](repeating: nil, count: group.count)
      results.withUnsafeMutableBufferPointer { slots in
        DispatchQueue.concurrentPerform(iterations: group.count) { i in
          let first = i * perChunk
          let count = min(perChunk, imageCount - first)
          let raw = Array(pixels[(first * pixelsPerImage)..<((first + count) * pixelsPerImage)])
          slots[i] = encodeChunk(raw, imageCount: count, coder: coder, transform: plan.transform, options: options)
        }
      }
      for result in results {
        let (record, payload) = result!
        records.append(try writer.append(record, payload: payload))
        done += Int(record.itemCount)
        progress?(done, images.count)
      }
    }
    try reader?.checkUnchanged(size: scan.originalSize, checksum: scan.originalChecksum)
    _ = try writer.finish(originalChecksum: scan.originalChecksum)
    return records
  }

  /// Images per chunk when the caller names none: the fewest chunks of at most
  /// `maxDefaultChunkImages` images, all of one size (give or take one image). It depends on
  /// the image count alone, never on the thread count, so that the same file and options make
  /// the same container on every machine.
  public static func defaultChunk(_ imageCount: Int) -> Int {
    let maximum = CompressionOptions.maxDefaultChunkImages
    guard imageCount > maximum else { return max(1, imageCount) }
    let chunks = (imageCount - 1) / maximum + 1
    return (imageCount - 1) / chunks + 1
  }

  /// Codes one chunk with bits-back, or with zstd when that is smaller (or stores it).
  static func encodeChunk(
    _ raw: [UInt8], imageCount: Int, coder: ChunkCoder, transform: PixelTransform, options: CompressionOptions
  ) -> (ChunkRecord, [UInt8]) {
    // The choice is made with a fast level; only a chunk that goes through zstd is compressed
    // again at the user's level (zstd -19 takes seconds on a large chunk).
    let fallback = opaqueChunk(raw, level: Self.choiceZstdLevel)
    func useFallback() -> (ChunkRecord, [UInt8]) {
      var (record, payload) = fallback
      if options.zstdLevel != Self.choiceZstdLevel {
        let final = opaqueChunk(raw, level: options.zstdLevel)
        // A higher level is all but always smaller; keep the smaller frame either way.
        if final.1.count <= payload.count { (record, payload) = final }
      }
      record.itemCount = UInt32(imageCount)
      return (record, payload)
    }
    // A bits-back payload smaller than zstd's would expand more than the decompressor allows:
    // such a chunk (nearly constant data, a gzip bomb) is not worth the model's time.
    if UInt64(raw.count) >= maxBitsBackExpansion * UInt64(fallback.1.count) { return useFallback() }
    let symbols = transform.forward(raw)
    let message = symbols.withUnsafeBufferPointer {
      coder.encode($0, imageCount: imageCount, laneCount: options.lanes(forImages: imageCount))
    }
    let payload = littleEndianBytes(message.flattened())
    let checksum = XXH64.hash(raw)
    if fallback.1.count <= payload.count || UInt64(raw.count) > maxBitsBackExpansion * UInt64(payload.count) {
      return useFallback()
    }
    let initialBits = 32 * message.floorWordsRead + 64 * message.laneCount
    let record = ChunkRecord(
      method: .bitsBack, itemCount: UInt32(imageCount), laneCount: UInt16(message.laneCount),
      initialBits: UInt32(clamping: initialBits), rawSize: UInt64(raw.count), rawChecksum: checksum)
    return (record, payload)
  }

  /// The zstd level that the choice between bits-back and zstd is made with, for each chunk
  /// of images: fast, and within a few percent of level 19 on the data at stake.
  static let choiceZstdLevel = 3

  // MARK: - Opaque bytes

  /// The size of the pieces that opaque data is cut into.
  static let opaqueChunkSize = 8 << 20

  static func compressOpaque<Input: CompressionInput>(
    _ input: Input, scan: InputScan, options: CompressionOptions, progress: ((Int, Int) -> Void)?,
    sink: @escaping ([UInt8]) throws -> Void
  ) throws -> [ChunkRecord] {
    let reader = try PlainReader(input, gzipHeaderSize: nil)
    if scan.originalSize <= UInt64(opaqueChunkSize) {
      // One chunk: the compact form (docs/FORMAT.md), whose 46 bytes of header are all the
      // overhead over the zstd frame. The whole file is in memory, at most one chunk of it.
      let piece = try reader.read(Int(scan.originalSize))
      try reader.checkUnchanged(size: scan.originalSize, checksum: scan.originalChecksum)
      let (record, payload) = opaqueChunk(piece, level: options.zstdLevel)
      let written = try ContainerWriter.writeCompact(record, payload: payload, sink: sink)
      progress?(piece.count, Int(clamping: scan.originalSize))
      return [written]
    }
    var writer = try ContainerWriter(header: ContainerHeader(originalSize: scan.originalSize), sink: sink)
    var records: [ChunkRecord] = []
    var done: UInt64 = 0
    while done < scan.originalSize {
      let piece = try reader.read(Int(min(UInt64(opaqueChunkSize), scan.originalSize - done)))
      guard !piece.isEmpty else { break }
      let (record, payload) = opaqueChunk(piece, level: options.zstdLevel)
      records.append(try writer.append(record, payload: payload))
      done += UInt64(piece.count)
      progress?(Int(clamping: done), Int(clamping: scan.originalSize))
    }
    try reader.checkUnchanged(size: scan.originalSize, checksum: scan.originalChecksum)
    _ = try writer.finish(originalChecksum: scan.originalChecksum)
    return records
  }

  /// zstd, or the bytes themselves when zstd does not make them smaller.
  static func opaqueChunk(_ raw: [UInt8], level: Int) -> (ChunkRecord, [UInt8]) {
    let checksum = XXH64.hash(raw)
    if let compressed = try? Zstd.compress(raw, level: level), compressed.count < raw.count,
      UInt64(raw.count) <= Zstd.maxExpansion * UInt64(compressed.count) {
      return (ChunkRecord(method: .zstd, rawSize: UInt64(raw.count), rawChecksum: checksum), compressed)
    }
    return (ChunkRecord(method: .stored, rawSize: UInt64(raw.count), rawChecksum: checksum), raw)
  }
}

/// The words of a message as little-endian bytes.
func littleEndianBytes(_ words: [UInt32]) -> [UInt8] {
  var bytes = [UInt8](repeating: 0, count: words.count * 4)
  for (i, word) in words.enumerated() {
    bytes[4 * i] = UInt8(truncatingIfNeeded: word)
    bytes[4 * i + 1] = UInt8(truncatingIfNeeded: word >> 8)
    bytes[4 * i + 2] = UInt8(truncatingIfNeeded: word >> 16)
    bytes[4 * i + 3] = UInt8(truncatingIfNeeded: word >> 24)
  }
  return bytes
}

extension Compressor {
  /// The model that `compress` would use on `input` and its discretized −ELBO on the images
  /// (bits/dim), or nil when the data would go through zstd. For `bbans bench`.
  public static func modelRate(_ input: [UInt8], options: CompressionOptions = CompressionOptions()) throws -> (model: CodingModel, elbo: NegativeELBO)? {
    var notes: [String] = []
    guard let (images, layout) = try DatasetFile.parse(input), images.count > 0,
      let plan = try choosePlan(images: ScannedImages(images, layout: layout), options: options, notes: &notes)
    else { return nil }
    let symbols = plan.transform.forward(images.pixels)
    let elbo = symbols.withUnsafeBufferPointer {
      plan.model.vae.discretizedNegativeELBO(pixels: $0, count: images.count, threads: max(1, options.threadCount))
    }
    return (plan.model, elbo)
  }
}
