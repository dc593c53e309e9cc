import ArgumentParser
import BitsBack
import Container
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Compress: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compress a file (images with bits-back, anything else with zstd).",
    discussion: """
      Images in IDX (MNIST's format), NumPy .npy (uint8) or PGM (P5) files are coded with a
      built-in model chosen from the data, or with --model. The output is IN.bba unless -o names it.
      """)

  @Argument(help: "The file to compress ('-' for standard input).")
  var input: String

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
  }

  func run() throws {
    try reportingErrors {
      let outputPath = common.output ?? (input == "-" ? "-" : input + ".bba")
      if outputPath == "-" && isatty(1) != 0 { throw CLIError.terminalOutput }
      try OutputFile.checkDistinct(input: input, output: outputPath)
      // Read twice, never whole (a stream is copied to a temporary file as it is read).
      var source = try FileInput(path: input)
      var options = CompressionOptions()
      options.threadCount = common.threadCount
      options.chunkImageCount = chunk
      options.laneCount = lanes
      var models: [CodingModel] = []
      if let model {
        let chosen = try ModelRegistry.model(namedOrPath: model)
        options.model = .model(chosen)
        models.append(chosen)
      }
      let output = try OutputFile(path: outputPath, force: common.force)
      do {
        let progress = Progress("compressing")
        // Standard output cannot be read back: the container is kept to verify it.
        var container: [UInt8] = []
        let keep = verify && output.writtenPath == nil
        let report = try Compressor.compress(&source, options: options, progress: progress.update) { piece in
          if keep { container.append(contentsOf: piece) }
          try output.write(piece)
        }
        progress.finish()
        if verify {
          let archive: any ByteSource = try output.writtenPath.map { try FileByteSource(path: $0) } ?? MemoryByteSource(container)
          try verifyArchive(archive, against: source, models: models, outputPath: outputPath)
        }
        try output.commit()
        for text in report.notes { note(text) }
        if outputPath != "-" && isatty(2) != 0 {
          note(summary(report))
        }
      } catch {
        output.discard()
        throw error
      }
      if common.remove && input != "-" { try FileManager.default.removeItem(atPath: input) }
    }
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

  func summary(_ report: CompressionReport) -> String {
    let ratio = report.originalSize == 0 ? 0 : Double(report.compressedSize) / Double(report.originalSize) * 100
    var text = "\(input): \(report.originalSize) → \(report.compressedSize) bytes (\(String(format: "%.2f", ratio))%)"
    if let name = report.modelName, report.pixelCount > 0 {
      text += ", \(String(format: "%.4f", Double(report.compressedSize * 8) / Double(report.pixelCount))) bits/dim with model \(name)"
    }
    return text
  }
}
