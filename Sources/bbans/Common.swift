import ArgumentParser
import BitsBack
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command's body; a thrown error becomes `bbans: error: <sentence>` and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch {
    FileHandle.standardError.write(Data("bbans: error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}

/// Prints a line to standard error.
func note(_ text: String) {
  FileHandle.standardError.write(Data("bbans: \(text)\n".utf8))
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

/// A progress line on standard error, only when it is a terminal.
final class Progress {
  let label: String
  let enabled = isatty(2) != 0
  private var lastShown = -1

  init(_ label: String) { self.label = label }

  func update(_ done: Int, _ total: Int) {
    guard enabled, total > 0 else { return }
    let percent = done * 100 / total
    guard percent != lastShown else { return }
    lastShown = percent
    FileHandle.standardError.write(Data("\r\(label) \(percent)%".utf8))
  }

  func finish() {
    if enabled && lastShown >= 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}

/// Options that compress and decompress share.
struct OutputOptions: ParsableArguments {
  @Option(
    name: .shortAndLong,
    help: "The output file ('-' for standard output); it appears only when complete. A device or FIFO (/dev/null) is written into; a directory is refused.")
  var output: String?

  @Flag(
    name: .shortAndLong,
    help: "Replace an existing output file or symbolic link (the link itself, not its target). Without -f nothing is replaced, not even a file that appears during the run.")
  var force = false

  @Flag(name: .shortAndLong, help: "Keep the input file (the default; accepted for zstd's habit).")
  var keep = false

  @Flag(name: .customLong("rm"), help: "Remove the input file after success.")
  var remove = false

  @Option(name: .long, help: "Threads to code chunks on (default: the number of cores).")
  var threads: Int?

  func validate() throws {
    if keep && remove { throw OptionError("-k and --rm contradict each other") }
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
  }

  var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}
