#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An output that appears complete or not at all: bytes go to a temporary file beside the
/// target, which is renamed into place by `commit()`. On an error, or on SIGINT or SIGTERM,
/// the temporary file is removed, so no partial output is ever left behind.
final class OutputFile {
  let path: String
  private let temporaryPath: String?
  private let handle: FileHandle

  /// Opens `path` for writing ("-" is standard output).
  /// - Throws: `CLIError.outputExists` without `force`, `CLIError.cannotWrite` when the folder
  ///   does not take a new file.
  init(path: String, force: Bool) throws {
    self.path = path
    if path == "-" {
      temporaryPath = nil
      handle = FileHandle.standardOutput
      return
    }
    if FileManager.default.fileExists(atPath: path) && !force { throw CLIError.outputExists(path) }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".bbans-\(getpid())-tmp"
    // Registered before the file exists, so that no signal can come between its creation and
    // the handler that removes it.
    PendingOutput.register(temporary)
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let handle = FileHandle(forWritingAtPath: temporary)
    else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      PendingOutput.clear()
      throw CLIError.cannotWrite(path, reason: reason)
    }
    temporaryPath = temporary
    self.handle = handle
  }

  /// Throws `CLIError.sameFile` when `output` names the file `input` (compared by device and
  /// inode, so that another spelling of the path is caught too): replacing it would lose the
  /// input.
  static func checkDistinct(input: String, output: String) throws {
    guard input != "-" && output != "-" else { return }
    var a = stat(), b = stat()
    guard stat(input, &a) == 0, stat(output, &b) == 0 else { return }
    if a.st_dev == b.st_dev && a.st_ino == b.st_ino { throw CLIError.sameFile(output) }
  }

  func write(_ bytes: some Collection<UInt8>) throws {
    do {
      try handle.write(contentsOf: Data(bytes))
    } catch {
      throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
    }
  }

  /// The file the bytes go to before `commit` (nil for standard output), to read them back:
  /// `write` hands each piece to the kernel at once, so what was written can be read there.
  var writtenPath: String? { temporaryPath }

  /// Empties the temporary file, to write it again from the start.
  func restart() throws {
    guard temporaryPath != nil else { throw CLIError.cannotWrite(path, reason: "standard output cannot be written again") }
    do {
      try handle.truncate(atOffset: 0)
    } catch {
      throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
    }
  }

  /// Flushes and renames the temporary file into place.
  func commit() throws {
    guard let temporary = temporaryPath else { return }
    do {
      try handle.synchronize()
      try handle.close()
    } catch {
      discard()
      throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
    }
    if rename(temporary, path) != 0 {
      let reason = String(cString: strerror(errno))
      discard()
      throw CLIError.cannotWrite(path, reason: reason)
    }
    PendingOutput.clear()
  }

  /// Removes the temporary file (after an error).
  func discard() {
    guard let temporary = temporaryPath else { return }
    try? handle.close()
    unlink(temporary)
    PendingOutput.clear()
  }
}

/// The temporary file that a signal must remove: a C string set before any byte is written, so
/// that the handler only calls async-signal-safe functions (unlink, _exit).
enum PendingOutput {
  nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>?

  static func register(_ temporary: String) {
    clear()
    path = strdup(temporary)
    var signals = sigset_t()
    sigemptyset(&signals)
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
      sigaddset(&signals, signalNumber)
      signal(signalNumber) { number in
        if let pending = PendingOutput.path { unlink(pending) }
        _exit(128 + number)
      }
    }
    // A parent may have started bbans with these signals blocked (a child inherits the mask of
    // the thread that spawned it, and Dispatch's worker threads block every signal): unblocked
    // here, so that SIGTERM still stops bbans and removes the temporary file.
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
  }

  static func clear() {
    let old = path
    path = nil
    free(old)
  }
}
