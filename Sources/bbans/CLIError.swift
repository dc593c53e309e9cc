/// The command line's own errors; the library's errors describe themselves.
enum CLIError: Error, CustomStringConvertible {
  case outputExists(String)
  case cannotRead(String, reason: String)
  case cannotWrite(String, reason: String)
  case unknownSuffix(String)
  case terminalOutput
  case invalidArgument(String)
  case sameFile(String)
  case verificationFailed(String, firstDifference: Int?)
  /// Standard output was closed by its reader (`bbans -dc x.bba | head`): bbans ignores
  /// SIGPIPE, and ends on EPIPE without a word, with status 141 (128 + SIGPIPE, what a shell
  /// shows for a process that SIGPIPE ended), as a reader that stopped on purpose expects.
  case brokenPipe

  static let brokenPipeStatus: Int32 = 141

  var description: String {
    switch self {
    case .outputExists(let path): return "\(path) already exists; use -f to overwrite it"
    case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
    case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
    case .unknownSuffix(let path): return "\(path) does not end in .bba; name the output with -o"
    case .terminalOutput: return "refusing to write compressed data to a terminal; redirect it, name a file with -o, or use -f to write it anyway"
    case .invalidArgument(let text): return text
    case .sameFile(let path): return "\(path) is both the input and the output; name another output with -o"
    case .brokenPipe: return "standard output was closed"
    case .verificationFailed(let path, let difference):
      return "verification failed: \(path) does not decompress to the input (\(difference.map { "first difference at byte \($0)" } ?? "the lengths differ")); nothing was written"
    }
  }
}
