import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `bbans` command: a thin layer of argument parsing over the BitsBack library.
/// Each subcommand lives in its own file.
@main
struct BBANS: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "bbans",
    abstract: "Lossless compression of small-image datasets with bits-back coding (BB-ANS).",
    usage: """
      bbans [<options>] <file> ...      (bbans compress)
      bbans -d [<options>] <file> ...   (bbans decompress)
      bbans <subcommand>
      """,
    discussion: """
      As with zstd, `bbans FILE…` compresses and `bbans -d FILE…` decompresses: the same as \
      `bbans compress` and `bbans decompress`, with the same options (see their --help).
      """,
    version: "bbans \(version)",
    subcommands: [Compress.self, Decompress.self, Info.self, Models.self, Train.self, Evaluate.self, Convert.self, Bench.self])

  /// ArgumentParser's `main`, with bbans's errors: one line `bbans: error: <sentence>` on stderr
  /// and exit status 1, where ArgumentParser would print `Error: …` with the usage and exit 64.
  /// A mistake that ArgumentParser finds itself (an unknown option, a missing argument, a value
  /// that is not a number) gets a second line that says where the help is. Help and version
  /// requests print as ArgumentParser prints them, with status 0.
  ///
  /// SIGPIPE is ignored: a write to a closed standard output fails with EPIPE, which ends bbans
  /// quietly with status 141 (`CLIError.brokenPipe`), and no temporary file is left behind.
  static func main() {
    signal(SIGPIPE, SIG_IGN)
    let arguments = zstdStyle(Array(CommandLine.arguments.dropFirst()))
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
        writeStandardError(lines)
      }
      Foundation.exit(code == .validationFailure ? ExitCode.failure.rawValue : code.rawValue)
    }
  }

  /// The names of the subcommands, and `help`.
  static var commandNames: [String] {
    configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName } + ["help"]
  }

  /// zstd's way of calling: without a subcommand, `bbans [-d] FILE…` is `bbans compress FILE…`
  /// or, with `-d` (`--decompress`, or `d` in a group of flags such as `-dc`),
  /// `bbans decompress FILE…`; `-z` (`--compress`) says compress. The root's own requests
  /// (`--help`, `-h`, `--version`) and an empty line are left to ArgumentParser.
  static func zstdStyle(_ arguments: [String]) -> [String] {
    guard let first = arguments.first, !commandNames.contains(first) else { return arguments }
    if arguments.allSatisfy({ ["--help", "-h", "--version"].contains($0) }) { return arguments }
    var decompress = false
    var rest: [String] = []
    var ended = false  // after "--", every word is a file
    for word in arguments {
      if ended || !word.hasPrefix("-") || word == "-" {
        rest.append(word)
        continue
      }
      switch word {
      case "--": ended = true; rest.append(word)
      case "-d", "--decompress", "--uncompress": decompress = true
      case "-z", "--compress": decompress = false
      default:
        // A group of flags, as `-dcf`: the d is taken out, the rest left for ArgumentParser.
        let letters = word.dropFirst()
        if !word.hasPrefix("--") && letters.contains("d") && letters.allSatisfy({ "dcfkqv".contains($0) }) {
          decompress = true
          let others = letters.filter { $0 != "d" }
          if !others.isEmpty { rest.append("-" + others) }
        } else {
          rest.append(word)
        }
      }
    }
    return [decompress ? "decompress" : "compress"] + rest
  }

  /// "bbans compress" when the arguments name a subcommand, else "bbans".
  static func helpCommand(_ arguments: [String]) -> String {
    let names = configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName }
    return (arguments.first { names.contains($0) }).map { "bbans \($0)" } ?? "bbans"
  }
}
