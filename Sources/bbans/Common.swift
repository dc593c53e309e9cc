import ArgumentParser
import BitsBack
import Foundation

#if canImport(Glibc)
import Glibc
/// write(2), by a name that no method hides.
let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
let systemWrite = Darwin.write
#endif

/// Runs a command's body; a thrown error becomes `bbans: error: <sentence>` and exit status 1
/// (a closed standard output ends quietly, with status 141: see `CLIError.brokenPipe`).
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch CLIError.brokenPipe {
    throw ExitCode(CLIError.brokenPipeStatus)
  } catch {
    writeStandardError("bbans: error: \(error)\n")
    throw ExitCode.failure
  }
}

/// Writes to standard error, and nothing more if it is closed: the messages are for a person,
/// and one who has gone away needs none.
func writeStandardError(_ text: String) {
  var bytes = Array(text.utf8)[...]
  while !bytes.isEmpty {
    let written = bytes.withUnsafeBytes { systemWrite(2, $0.baseAddress, $0.count) }
    if written < 0 && errno == EINTR { continue }
    if written <= 0 { return }
    bytes = bytes.dropFirst(written)
  }
}

/// Prints a line to standard error.
func note(_ text: String) {
  writeStandardError("bbans: \(text)\n")
}

/// Reads a whole file, or standard input for "-".
func readInput(_ path: String) throws -> [UInt8] {
  if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw CLIError.cannotRead(path, reason: "no such file")
  }
  if isDirectory.boolValue { throw CLIError.cannotRead(path, reason: "it is a directory") }
  guard let data = FileManager.default.contents(atPath: path) else {
    throw CLIError.cannotRead(path, reason: String(cString: strerror(errno)))
  }
  return [UInt8](data)
}

/// Options that compress and decompress share: zstd's, where zstd has one.
struct OutputOptions: ParsableArguments {
  @Option(
    name: .shortAndLong,
    help: "The output file ('-' for standard output); it appears only when complete. A device or FIFO (/dev/null) is written into; a directory is refused. Only with one input, unless it is '-'.")
  var output: String?

  @Flag(name: [.customShort("c"), .customLong("stdout")], help: "Write to standard output (the same as -o -); several inputs follow one another.")
  var toStandardOutput = false

  @Flag(
    name: .shortAndLong,
    help: "Replace an existing output file or symbolic link (the link itself, not its target). Without -f nothing is replaced, not even a file that appears during the run.")
  var force = false

  @Flag(name: .shortAndLong, help: "Keep the input file (the default; accepted for zstd's habit).")
  var keep = false

  @Flag(name: .customLong("rm"), help: "Remove the input file after success.")
  var remove = false

  @Option(name: [.customShort("T", allowingJoined: true), .long], help: "Threads to code chunks on (default: the number of cores).")
  var threads: Int?

  @Flag(name: .shortAndLong, help: "Say less: no progress, no summary, no notes (errors still).")
  var quiet = false

  @Flag(name: .shortAndLong, help: "Say more: the summary even when standard error is not a terminal, and the time each file took.")
  var verbose = false

  func validate() throws {
    if keep && remove { throw OptionError("-k and --rm contradict each other") }
    if quiet && verbose { throw OptionError("-q and -v contradict each other") }
    if toStandardOutput, let output, output != "-" { throw OptionError("-c and -o \(output) contradict each other") }
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
  }

  var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

  /// The output that -o or -c names: "-" for standard output, nil for each input's own.
  var namedOutput: String? { toStandardOutput ? "-" : output }

  /// Checks the inputs against the output: -o names one file, so only one input may go there.
  func validate(inputs: [String]) throws {
    if inputs.count > 1, let output = namedOutput, output != "-" {
      throw ValidationError("-o names one output, and \(inputs.count) inputs are given; leave -o out (each input gets its own output) or use -c")
    }
    if inputs.isEmpty && isatty(0) != 0 { throw ValidationError("no input: name a file, or '-' to read the terminal") }
    if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input ('-') can be read only once") }
  }

  /// Whether progress bars are drawn: on a terminal, unless -q.
  var showsProgress: Bool { !quiet && isatty(2) != 0 }

  /// Whether a file's summary is printed: with -v, or on a terminal unless -q or the output
  /// is standard output (as zstd, which keeps quiet then).
  func showsSummary(output: String) -> Bool { verbose || (!quiet && isatty(2) != 0 && output != "-") }

  /// Runs `body` on each input in turn (standard input for none, when it is not a terminal);
  /// a failure is reported, in one line, and the next input is done. A closed standard output
  /// stops everything, quietly.
  /// - Throws: `ExitCode.failure` when any input failed, after the others are done.
  func forEachInput(_ inputs: [String], _ body: (String) throws -> Void) throws {
    let inputs = inputs.isEmpty ? ["-"] : inputs
    var failures = 0
    for input in inputs {
      do {
        try body(input)
      } catch CLIError.brokenPipe {
        throw ExitCode(CLIError.brokenPipeStatus)
      } catch let error as ExitCode {
        throw error
      } catch {
        var text = "\(error)"
        // With several inputs, say which one failed, unless the message does.
        if inputs.count > 1 && !text.contains(input == "-" ? "standard input" : input) {
          text = "\(input == "-" ? "standard input" : input): " + text
        }
        writeStandardError("bbans: error: \(text)\n")
        failures += 1
      }
    }
    if failures > 0 { throw ExitCode.failure }
  }
}

/// A duration as people read it: "0.42 s", "3.1 s", "2 min 05 s".
func duration(_ seconds: Double) -> String {
  if seconds < 10 { return String(format: "%.2f s", seconds) }
  if seconds < 60 { return String(format: "%.1f s", seconds) }
  let whole = Int(seconds.rounded())
  if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
  return String(format: "%d h %02d min", whole / 3600, whole / 60 % 60)
}

/// A monotonic clock, in seconds.
func now() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
