import ArgumentParser
import BitsBack
import Container
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Decompress: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decompress .bba files back to the originals, byte for byte.",
    discussion: """
      Each X.bba goes to X (or where -o or -c says); a failure on one is reported and the others \
      are done, and the exit status is 1 if any failed. With no input, standard input is read. \
      `bbans -d FILE…` is this command too.
      """)

  @Argument(help: "The .bba files ('-' for standard input).")
  var inputs: [String] = []

  @Option(name: .long, help: "The weights file the data was compressed with, when it is not built in.")
  var model: String?

  @OptionGroup var common: OutputOptions

  func validate() throws {
    try common.validate(inputs: inputs)
  }

  func run() throws {
    try reportingErrors {
      let models = try model.map { [try ModelRegistry.model(namedOrPath: $0)] } ?? []
      try common.forEachInput(inputs) { try decompress($0, models: models) }
    }
  }

  /// Decompresses one input to its output.
  func decompress(_ input: String, models: [CodingModel]) throws {
    let start = now()
    let outputPath: String
    if let given = common.namedOutput {
      outputPath = given
    } else if input == "-" {
      outputPath = "-"
    } else if input.hasSuffix(".bba") && input.count > 4 {
      outputPath = String(input.dropLast(4))
    } else {
      throw CLIError.unknownSuffix(input)
    }
    try OutputFile.checkDistinct(input: input, output: outputPath)
    let source = try FileByteSource(path: input)
    let output = try OutputFile(path: outputPath, force: common.force)
    let report: DecompressionReport
    do {
      let progress = Progress("decompressing \(input == "-" ? "standard input" : input)", enabled: common.showsProgress)
      let imageProgress: (@Sendable (Int) -> Void)? = progress.enabled ? progress.add : nil
      defer { progress.finish() }
      // An archive of an earlier bbans that kept a gzip file without its encoder: a stream
      // output cannot be written twice, so the encoder is found first, by a pass that writes
      // nothing (a file output is simply written again when the first guess is wrong).
      var encoding: DeflateEncoding? = nil
      if output.writtenPath == nil, input != "-",
        try Decompressor.lacksGzipEncoder(try ContainerReader(source: try FileByteSource(path: input)).header)
      {
        do {
          _ = try Decompressor.decompress(source: try FileByteSource(path: input), models: models, threadCount: common.threadCount) { _ in }
        } catch BitsBackError.rebuildNeedsEncoding(let found) {
          encoding = found
        }
      }
      // Chunk by chunk into the temporary file, kept only once the whole file has checked out.
      do {
        report = try Decompressor.decompress(
          source: source, models: models, threadCount: common.threadCount, gzipEncoding: encoding,
          progress: progress.update, imageProgress: imageProgress
        ) { try output.write($0) }
      } catch BitsBackError.rebuildNeedsEncoding(let encoding) {
        // An archive of an earlier bbans whose gzip encoder was not recorded: now known.
        try output.restart()
        report = try Decompressor.decompress(
          source: try FileByteSource(path: input), models: models, threadCount: common.threadCount,
          gzipEncoding: encoding, progress: progress.update, imageProgress: imageProgress
        ) { try output.write($0) }
      }
      progress.finish()
      try output.commit()
    } catch {
      output.discard()
      throw error
    }
    if common.showsSummary(output: outputPath) {
      note(summary(report, input: input, output: outputPath, seconds: now() - start))
    }
    if common.remove && input != "-" { try FileManager.default.removeItem(atPath: input) }
  }

  /// One line: what was written, how many bytes, with what, and the time.
  ///
  ///     a.idx.bba → a.idx: 7840016 bytes, 10000 images with model mnist, 2.05 s
  ///     notes.txt.bba → notes.txt: 5000 bytes (zstd), 0.01 s
  func summary(_ report: DecompressionReport, input: String, output: String, seconds: Double) -> String {
    let names = "\(input == "-" ? "standard input" : input) → \(output == "-" ? "standard output" : output)"
    var text = "\(names): \(report.originalSize) bytes"
    if let name = report.modelName, report.bitsBackChunkCount == report.chunkCount {
      text += ", \(report.imageCount) images with model \(name)"
    } else if let name = report.modelName, report.bitsBackChunkCount > 0 {
      text += ", \(report.imageCount) images, with model \(name) on \(report.bitsBackChunkCount) of \(report.chunkCount) chunks"
    } else if report.imageCount > 0 {
      text += ", \(report.imageCount) images (zstd)"
    } else {
      text += " (zstd)"
    }
    return text + ", \(duration(seconds))"
  }
}
