import ArgumentParser
import BitsBack
import Foundation

struct Decompress: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decompress a .bba file back to the original, byte for byte.")

  @Argument(help: "The .bba file ('-' for standard input).")
  var input: String

  @Option(name: .long, help: "The weights file the data was compressed with, when it is not built in.")
  var model: String?

  @OptionGroup var common: OutputOptions

  func run() throws {
    try reportingErrors {
      let outputPath: String
      if let given = common.output {
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
      let models = try model.map { [try ModelRegistry.model(namedOrPath: $0)] } ?? []
      let output = try OutputFile(path: outputPath, force: common.force)
      do {
        let progress = Progress("decompressing")
        // Chunk by chunk into the temporary file, kept only once the whole file has checked out.
        do {
          _ = try Decompressor.decompress(
            source: source, models: models, threadCount: common.threadCount, progress: progress.update
          ) { try output.write($0) }
        } catch BitsBackError.rebuildNeedsEncoding(let encoding) {
          // An archive of an earlier bbans whose gzip encoder was not recorded: now known.
          try output.restart()
          _ = try Decompressor.decompress(
            source: try FileByteSource(path: input), models: models, threadCount: common.threadCount,
            gzipEncoding: encoding, progress: progress.update
          ) { try output.write($0) }
        }
        progress.finish()
        try output.commit()
      } catch {
        output.discard()
        throw error
      }
      if common.remove && input != "-" { try FileManager.default.removeItem(atPath: input) }
    }
  }
}
