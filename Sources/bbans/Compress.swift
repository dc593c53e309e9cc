import ArgumentParser
import BitsBack
import Container
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Compress: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compress files (images with bits-back, anything else with zstd).",
    discussion: """
      Images in IDX (MNIST's format), NumPy .npy (uint8) or PGM (P5) files are coded with a \
      built-in model chosen from the data, or with --model. Each input goes to INPUT.bba (or \
      where -o or -c says); a failure on one is reported and the others are done, and the exit \
      status is 1 if any failed. With no input, standard input is read.

      On a terminal, a progress bar and a summary for each file are printed on standard error; \
      -q keeps quiet, -v prints the summary even elsewhere. `bbans FILE…` is this command too.
      """)

  @Argument(help: "The files to compress ('-' for standard input).")
  var inputs: [String] = []

  @Option(name: .long, help: "A built-in model's name or a weights file's path (default: chosen from the data).")
  var model: String?

  @Option(name: .long, help: "Images per chunk (default: one chunk per thread, at most 8192).")
  var chunk: Int?

  @Option(name: .long, help: "The most BB-ANS chains side by side in a chunk (fewer when a chunk has under 16 images per lane).")
  var lanes: Int = 32

  @Flag(name: .long, help: "Decompress the result and compare it with the input before keeping it.")
  var verify = false

  @OptionGroup var common: OutputOptions

  func validate() throws {
    if let chunk { try check("--chunk", chunk, in: OptionLimits.chunkImages) }
    try check("--lanes", lanes, in: OptionLimits.lanes)
    try common.validate(inputs: inputs)
  }

  func run() throws {
    try reportingErrors {
      // Named once for all the inputs.
      let models = try model.map { [try ModelRegistry.model(namedOrPath: $0)] } ?? []
      try common.forEachInput(inputs) { try compress($0, models: models) }
    }
  }

  /// Compresses one input to its output.
  func compress(_ input: String, models: [CodingModel]) throws {
    let start = now()
    let outputPath = common.namedOutput ?? (input == "-" ? "-" : input + ".bba")
    if outputPath == "-" && isatty(1) != 0 && !common.force { throw CLIError.terminalOutput }
    try OutputFile.checkDistinct(input: input, output: outputPath)
    // Read twice, never whole (a stream is copied to a temporary file as it is read).
    var source = try FileInput(path: input)
    let progress = Progress("compressing \(input == "-" ? "standard input" : input)", enabled: common.showsProgress)
    var options = CompressionOptions()
    options.threadCount = common.threadCount
    options.chunkImageCount = chunk
    options.laneCount = lanes
    if let chosen = models.first { options.model = .model(chosen) }
    if progress.enabled { options.imageProgress = progress.add }
    let output = try OutputFile(path: outputPath, force: common.force)
    do {
      // Standard output cannot be read back: the container is kept to verify it.
      var container: [UInt8] = []
      let keep = verify && output.writtenPath == nil
      let report: CompressionReport
      do {
        report = try Compressor.compress(&source, options: options, progress: progress.update) { piece in
          if keep { container.append(contentsOf: piece) }
          try output.write(piece)
        }
      } catch {
        progress.finish()
        throw error
      }
      progress.finish()
      if verify {
        let archive: any ByteSource = try output.writtenPath.map { try FileByteSource(path: $0) } ?? MemoryByteSource(container)
        try verifyArchive(archive, against: source, models: models, outputPath: outputPath)
      }
      try output.commit()
      if !common.quiet {
        for text in report.notes { note(text) }
      }
      if common.showsSummary(output: outputPath) {
        note(summary(report, input: input, output: outputPath, seconds: now() - start))
      }
    } catch {
      output.discard()
      throw error
    }
    if common.remove && input != "-" { try FileManager.default.removeItem(atPath: input) }
  }

  /// Decompresses the archive just written and compares it, byte by byte, with the input read
  /// again: both as streams.
  func verifyArchive(_ archive: some ByteSource, against input: FileInput, models: [CodingModel], outputPath: String) throws {
    try input.rewind()
    var offset = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var difference: Int?
    _ = try Decompressor.decompress(source: archive, models: models, threadCount: common.threadCount) { piece in
      var done = 0
      while done < piece.count && difference == nil {
        let count = try buffer.withUnsafeMutableBytes { try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<min($0.count, piece.count - done)])) }
        if count == 0 {
          difference = offset + done
          break
        }
        for i in 0..<count where buffer[i] != piece[done + i] {
          difference = offset + done + i
          break
        }
        done += count
      }
      offset += piece.count
    }
    if difference == nil {
      let extra = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
      if extra > 0 { difference = offset }
    }
    if let difference { throw CLIError.verificationFailed(outputPath, firstDifference: difference) }
  }

  /// One line that says what was done: the sizes, and what coded the data, the model (with the
  /// share of the chunks it coded when zstd took some) or zstd alone.
  ///
  ///     a.idx → a.idx.bba: 7840016 → 1459102 bytes (18.61%), 1.4888 bits/dim, model mnist, 2.31 s
  ///     notes.txt → notes.txt.bba: 5000 → 160 bytes (3.20%), zstd, 0.01 s
  func summary(_ report: CompressionReport, input: String, output: String, seconds: Double) -> String {
    let ratio = report.originalSize == 0 ? 0 : Double(report.compressedSize) / Double(report.originalSize) * 100
    let names = "\(input == "-" ? "standard input" : input) → \(output == "-" ? "standard output" : output)"
    var text = "\(names): \(report.originalSize) → \(report.compressedSize) bytes (\(String(format: "%.2f", ratio))%)"
    if report.pixelCount > 0 {
      text += ", \(String(format: "%.4f", Double(report.compressedSize * 8) / Double(report.pixelCount))) bits/dim"
    }
    text += ", " + codedBy(report)
    if common.verbose || output != "-" { text += ", \(duration(seconds))" }
    return text
  }

  /// "model mnist", "model mnist on 7 of 8 chunks (52,500 of 60,000 images), zstd on the rest",
  /// or "zstd" (with the model that was tried, if one was).
  func codedBy(_ report: CompressionReport) -> String {
    let bitsBack = report.chunks.filter { $0.method == .bitsBack }
    let others = Set(report.chunks.filter { $0.method != .bitsBack }.map { $0.method.description }).sorted()
    let rest = others.isEmpty ? "zstd" : others.joined(separator: " and ")
    guard let name = report.modelName, !bitsBack.isEmpty else {
      if let name = report.modelName, report.imageCount > 0 { return "\(rest) (model \(name) coded no chunk smaller)" }
      return report.chunks.isEmpty ? "empty" : rest
    }
    if bitsBack.count == report.chunks.count { return "model \(name)" }
    let images = bitsBack.reduce(0) { $0 + Int($1.itemCount) }
    return "model \(name) on \(bitsBack.count) of \(report.chunks.count) chunks "
      + "(\(grouped(images)) of \(grouped(report.imageCount)) images), \(rest) on the rest"
  }
}
