import ArgumentParser

/// The `bbans` command: a thin layer of argument parsing over the BitsBack library.
/// Each subcommand lives in its own file.
@main
struct BBANS: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bbans",
    abstract: "Lossless compression of small-image datasets with bits-back coding (BB-ANS).",
    subcommands: [Compress.self, Decompress.self, Info.self, Models.self, Train.self, Bench.self])
}
