#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An output that appears complete or not at all, and never takes the place of something it
/// may not replace.
///
/// What the path names decides how it is written (README, "The command line"):
/// - nothing: the bytes go to a temporary file beside it, which `commit()` moves into place
///   with `renameat2(RENAME_NOREPLACE)` or, where that is missing, `link(2)`. Both fail if
///   anything has appeared at the path meanwhile, so there is no window between the check and
///   the move: a file created there during a run is never replaced
///   (`CLIError.outputExists`), and of two runs to one output exactly one wins.
/// - a regular file or a symbolic link (even a dangling one): refused without `force`; with
///   it, replaced atomically by `rename(2)`. A link itself is replaced, not its target, as
///   `gzip -f` and `zstd -f` do: a write never goes elsewhere than the folder the path names.
/// - a character device or FIFO, directly or behind links (`/dev/null`, a named pipe,
///   `/dev/stdout` on a pipe): opened and written into, with or without `force`, as zstd does.
///   So is a link through a process's open files (`/proc/PID/fd`, where `/dev/stdout` and
///   `/dev/fd/N` lead), appended to when it is a regular file: replacing it would replace
///   `/dev/stdout` itself. Like standard output ("-"), a stream keeps what it was given when a
///   later step fails.
/// - a directory (or a link to one), a block device or a socket: refused, even with `force`.
///
/// On an error, or on SIGINT, SIGTERM or SIGHUP, the temporary file is removed, so no partial
/// output is ever left behind.
final class OutputFile {
  let path: String
  private let destination: Destination
  private let handle: FileHandle
  /// Set once `commit()` or `discard()` has run: neither does anything after that.
  private var finished = false

  private enum Destination {
    case standardOutput
    /// A device, a FIFO or an open file, written as it is.
    case stream
    /// A temporary file in `folder`, moved to the path by `commit()`; `replacing` is `force`.
    case temporary(path: String, folder: String, replacing: Bool)
  }

  /// Opens `path` for writing ("-" is standard output).
  /// - Throws: `CLIError.outputExists` when something stands at `path` and `force` is false,
  ///   `CLIError.cannotWrite` for a directory, a block device or a socket, or when the folder does
  ///   not take a new file or the device does not open.
  init(path: String, force: Bool) throws {
    self.path = path
    if path == "-" {
      destination = .standardOutput
      handle = FileHandle.standardOutput
      return
    }
    switch try Self.target(of: path) {
    case .refused(let reason):
      throw CLIError.cannotWrite(path, reason: reason)
    case .stream(let append):
      handle = try Self.openStream(path, append: append)
      destination = .stream
    case .existing where !force:
      throw CLIError.outputExists(path)
    case .absent, .existing:
      let url = URL(fileURLWithPath: path)
      let folder = url.deletingLastPathComponent().path
      let (temporary, descriptor) = try Self.createTemporary(beside: url.lastPathComponent, in: folder, for: path)
      destination = .temporary(path: temporary, folder: folder, replacing: force)
      handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
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

  /// - Throws: `CLIError.brokenPipe` when standard output's reader has gone (EPIPE),
  ///   `CLIError.cannotWrite` for any other failure.
  func write(_ bytes: some Collection<UInt8>) throws {
    if case .standardOutput = destination {
      try Self.writeStandardOutput(Array(bytes))
      return
    }
    do {
      try handle.write(contentsOf: Data(bytes))
    } catch {
      throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
    }
  }

  /// write(2) to descriptor 1 until all is written.
  static func writeStandardOutput(_ bytes: [UInt8]) throws {
    var done = 0
    while done < bytes.count {
      let written = bytes.withUnsafeBytes { systemWrite(1, $0.baseAddress! + done, $0.count - done) }
      if written >= 0 {
        done += written
        continue
      }
      let failure = errno
      if failure == EINTR { continue }
      if failure == EPIPE { throw CLIError.brokenPipe }
      throw CLIError.cannotWrite("standard output", reason: String(cString: strerror(failure)))
    }
  }

  /// The temporary file the bytes go to before `commit` (nil for standard output and streams),
  /// to read them back: `write` hands each piece to the kernel at once.
  var writtenPath: String? {
    if case .temporary(let temporary, _, _) = destination { return temporary }
    return nil
  }

  /// Empties the temporary file, to write it again from the start.
  func restart() throws {
    guard writtenPath != nil else { throw CLIError.cannotWrite(path, reason: "a stream output cannot be written again") }
    do {
      try handle.truncate(atOffset: 0)
    } catch {
      throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
    }
  }

  /// Flushes the temporary file and moves it into place (without `force`, only if nothing has
  /// appeared at the path meanwhile), or closes the stream.
  /// - Throws: `CLIError.outputExists` when a file appeared at the path during the run (the
  ///   temporary file is removed and that file left as it is), `CLIError.cannotWrite` otherwise.
  func commit() throws {
    guard !finished else { return }
    switch destination {
    case .standardOutput:
      finished = true
    case .stream:
      finished = true
      do {
        try handle.close()
      } catch {
        throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
      }
    case .temporary(let temporary, let folder, let replacing):
      do {
        try handle.synchronize()
        try handle.close()
        if replacing {
          if rename(temporary, path) != 0 { throw CLIError.cannotWrite(path, reason: String(cString: strerror(errno))) }
        } else {
          try Self.move(temporary, toNew: path)
        }
      } catch let error as CLIError {
        discard()
        throw error
      } catch {
        discard()
        throw CLIError.cannotWrite(path, reason: "\(error.localizedDescription)")
      }
      finished = true
      PendingOutput.clear()
      // The new name lasts through a crash only once its folder is on disk too (before --rm
      // removes the input, say).
      let descriptor = open(folder, O_RDONLY | O_CLOEXEC)
      if descriptor >= 0 {
        _ = fsync(descriptor)
        close(descriptor)
      }
    }
  }

  /// Removes the temporary file (after an error); a stream keeps what it was given.
  func discard() {
    guard !finished else { return }
    finished = true
    switch destination {
    case .standardOutput:
      return
    case .stream:
      try? handle.close()
    case .temporary(let temporary, _, _):
      try? handle.close()
      unlink(temporary)
      PendingOutput.clear()
    }
  }
}

// MARK: - What stands at the path

extension OutputFile {
  /// What stands at an output path, as far as writing there goes.
  enum Target: Equatable {
    /// Nothing: a new file.
    case absent
    /// A regular file or a symbolic link (dangling, or to a regular file): replaced only with
    /// `force`.
    case existing
    /// A character device or FIFO, or an open file behind `/proc/PID/fd` (appended to): written
    /// into.
    case stream(append: Bool)
    /// Something no output replaces or writes into; the reason completes "cannot write PATH: …".
    case refused(String)
  }

  /// Looks at `path` with lstat(2), and through links with stat(2).
  static func target(of path: String) throws -> Target {
    var named = stat()
    if lstat(path, &named) != 0 {
      if errno == ENOENT { return .absent }
      throw CLIError.cannotWrite(path, reason: String(cString: strerror(errno)))
    }
    let isLink = named.st_mode & S_IFMT == S_IFLNK
    var info = named
    // A link that leads nowhere (or in a loop) is still a name that exists.
    if isLink && stat(path, &info) != 0 { return .existing }
    switch info.st_mode & S_IFMT {
    case S_IFCHR, S_IFIFO: return .stream(append: false)
    case S_IFDIR: return .refused(isLink ? "it is a link to a directory" : "it is a directory")
    case S_IFBLK: return .refused("it is a block device")
    case S_IFSOCK: return .refused("it is a socket")
    default: return isLink && leadsThroughOpenFiles(path) ? .stream(append: true) : .existing
    }
  }

  /// Whether the links from `path` pass through a process's table of open files (Linux's
  /// `/proc/PID/fd`, where `/dev/stdout`, `/dev/stderr` and `/dev/fd/N` lead). Such a name
  /// stands for a file already open; renaming over it would replace the link (`/dev/stdout`
  /// itself, for root), not the file.
  static func leadsThroughOpenFiles(_ path: String) -> Bool {
    #if os(Linux)
    // A folder on the file system mounted at /proc (same device) is part of procfs.
    var proc = stat()
    guard stat("/proc", &proc) == 0 else { return false }
    var current = path
    for _ in 0..<40 {  // the most links the kernel follows
      var info = stat(), folderInfo = stat()
      guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return false }
      let folder = URL(fileURLWithPath: current).deletingLastPathComponent().path
      if stat(folder, &folderInfo) == 0 && folderInfo.st_dev == proc.st_dev { return true }
      guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return false }
      current = target.hasPrefix("/") ? target : folder + "/" + target
    }
    #endif
    return false
  }

  /// Opens a device, FIFO or open file for writing, as it is: no new file, no truncation. A
  /// FIFO's open waits for a reader, as zstd's does.
  static func openStream(_ path: String, append: Bool) throws -> FileHandle {
    let descriptor = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : 0))
    if descriptor < 0 { throw CLIError.cannotWrite(path, reason: String(cString: strerror(errno))) }
    // The path may have changed since it was looked at; a regular file in place of a device is
    // not written into without being asked.
    var info = stat()
    let kind = fstat(descriptor, &info) == 0 ? info.st_mode & S_IFMT : 0
    guard kind == S_IFCHR || kind == S_IFIFO || (append && kind == S_IFREG) else {
      close(descriptor)
      throw CLIError.cannotWrite(path, reason: "it changed while it was being opened")
    }
    return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
  }

  /// Creates `.NAME.bbans-PID-tmp` in `folder` (O_EXCL: never a file that is there already).
  static func createTemporary(beside name: String, in folder: String, for path: String) throws -> (String, Int32) {
    for attempt in 0..<100 {
      let temporary = folder + "/." + name + ".bbans-\(getpid())\(attempt == 0 ? "" : ".\(attempt)")-tmp"
      // Registered before the file exists, so that no signal can come between its creation and
      // the handler that removes it.
      PendingOutput.register(temporary)
      let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if descriptor >= 0 { return (temporary, descriptor) }
      let failure = errno
      PendingOutput.clear()
      if failure != EEXIST { throw CLIError.cannotWrite(path, reason: String(cString: strerror(failure))) }
    }
    throw CLIError.cannotWrite(path, reason: "no free name for a temporary file in \(folder)")
  }

  /// renameat2(2), which Swift's Glibc module does not declare (glibc has it since 2.28).
  private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
  private static let renameat2: RenameAt2? = {
    guard let library = dlopen(nil, RTLD_NOW), let symbol = dlsym(library, "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: RenameAt2.self)
  }()

  /// Moves `temporary` to `path` only if nothing is at `path`, in one step that fails with
  /// EEXIST otherwise: renameat2 with RENAME_NOREPLACE, or, where the system or the file system
  /// lacks it, link(2) (which never replaces) and then unlink(2) of the temporary name.
  static func move(_ temporary: String, toNew path: String) throws {
    let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, from <linux/fs.h>
    if let renameat2 {
      if renameat2(AT_FDCWD, temporary, AT_FDCWD, path, renameNoReplace) == 0 { return }
      let failure = errno
      if failure == EEXIST { throw CLIError.outputExists(path) }
      // Anything but "not supported here" is a real failure.
      if failure != EINVAL && failure != ENOSYS && failure != EOPNOTSUPP {
        throw CLIError.cannotWrite(path, reason: String(cString: strerror(failure)))
      }
    }
    if link(temporary, path) != 0 {
      let failure = errno
      if failure == EEXIST { throw CLIError.outputExists(path) }
      throw CLIError.cannotWrite(path, reason: String(cString: strerror(failure)))
    }
    unlink(temporary)
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
