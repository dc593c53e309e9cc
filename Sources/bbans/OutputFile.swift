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
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let handle = FileHandle(forWritingAtPath: temporary)
    else { throw CLIError.cannotWrite(path, reason: String(cString: strerror(errno))) }
    temporaryPath = temporary
    self.handle = handle
    PendingOutput.register(temporary)
  }

  func write(_ bytes: some Collection<UInt8>) throws {
    do {
      try handle.write(contentsOf: Data(bytes))
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
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
      signal(signalNumber) { number in
        if let pending = PendingOutput.path { unlink(pending) }
        _exit(128 + number)
      }
    }
  }

  static func clear() {
    let old = path
    path = nil
    free(old)
  }
}
