import ArgumentParser
import Foundation

/// The `bbans` command: a thin layer of argument parsing over the BitsBack library.
/// Each subcommand lives in its own file.
@main
struct BBANS: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bbans",
    abstract: "Lossless compression of small-image datasets with bits-back coding (BB-ANS).",
    subcommands: [Compress.self, Decompress.self, Info.self, Models.self, Train.self, Bench.self])

  /// ArgumentParser's `main`, with bbans's errors: one line `bbans: error: <sentence>` on stderr
  /// and exit status 1, where ArgumentParser would print `Error: …` with the usage and exit 64.
  /// A mistake that ArgumentParser finds itself (an unknown option, a missing argument, a value
  /// that is not a number) gets a second line that says where the help is. Help and version
  /// requests print as ArgumentParser prints them, with status 0.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      let code = exitCode(for: error)
      if code == .success { exit(withError: error) }
      let text = message(for: error)
      if !text.isEmpty {
        var lines = "bbans: error: \(text.split(whereSeparator: \.isNewline).joined(separator: " "))\n"
        if code == .validationFailure { lines += "see '\(helpCommand(arguments)) --help'\n" }
        FileHandle.standardError.write(Data(lines.utf8))
      }
      Foundation.exit(code == .validationFailure ? ExitCode.failure.rawValue : code.rawValue)
    }
  }

  /// "bbans compress" when the arguments name a subcommand, else "bbans".
  static func helpCommand(_ arguments: [String]) -> String {
    let names = configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName }
    return (arguments.first { names.contains($0) }).map { "bbans \($0)" } ?? "bbans"
  }
}
