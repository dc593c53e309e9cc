#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a file-to-file call (`Compressor.compressFile`, `Decompressor.decompressFile`) wrote
/// nothing; each description is one sentence.
public enum FileOutputError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Something stands at the output path and `overwrite` is false.
  case exists(path: String)
  /// The output path names the input file (another spelling of it included).
  case sameFile(path: String)
  /// The output cannot be made there: a directory or device at the path, a folder that does not
  /// exist or does not take a new file, a failed write.
  case cannotWrite(path: String, reason: String)

  public var description: String {
    switch self {
    case let .exists(path): return "\(path) already exists"
    case let .sameFile(path): return "\(path) is the input file itself"
    case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
    }
  }
}

extension Compressor {
  /// Compresses the file at `inputPath` into a container at `outputPath`, in bounded memory.
  ///
  /// The output appears complete or not at all: the container is written to a temporary file
  /// beside `outputPath` (`.NAME.bbans-PID-tmp`), flushed to disk, and moved into place only
  /// once it is whole; any error removes it. Without `overwrite`, nothing at `outputPath` is
  /// replaced, not even a file that appears there while the call runs (the move into place
  /// fails instead). The input is never changed. (A process killed during the call may leave
  /// the temporary file behind: the library installs no signal handlers.)
  ///
  /// ```swift
  /// let report = try Compressor.compressFile(atPath: "images.idx", toPath: "images.idx.bba")
  /// ```
  /// - Parameters:
  ///   - inputPath: the file to compress (a regular file, a pipe, or "-" for standard input).
  ///   - outputPath: the container to write (a path, not "-").
  ///   - options: the model, threads and chunks, as for `compress`.
  ///   - overwrite: replace a regular file (or a symbolic link itself) at `outputPath`.
  ///   - progress: called from time to time with the bytes done and the total (see `compress`).
  /// - Throws: `FileOutputError` when the output cannot be made, `IOError.fileAccess` when the
  ///   input cannot be read, and whatever `compress(_:options:progress:write:)` throws.
  @discardableResult
  public static func compressFile(
    atPath inputPath: String, toPath outputPath: String,
    options: CompressionOptions = CompressionOptions(), overwrite: Bool = false,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> CompressionReport {
    try AtomicFile.checkDistinct(input: inputPath, output: outputPath)
    var input = try FileInput(path: inputPath)
    let output = try AtomicFile(path: outputPath, overwrite: overwrite)
    do {
      let report = try compress(&input, options: options, progress: progress) { try output.write($0) }
      try output.commit()
      return report
    } catch {
      output.discard()
      throw error
    }
  }
}

extension Decompressor {
  /// Decompresses the container at `inputPath` into the original file at `outputPath`, in
  /// bounded memory.
  ///
  /// The original file appears complete or not at all, as with `Compressor.compressFile`: it
  /// is written to a temporary file beside `outputPath` and moved into place only once the
  /// container's checksums have all checked out. A container of an earlier bbans that needs
  /// another gzip encoder (`BitsBackError.rebuildNeedsEncoding`) is decoded again with it.
  ///
  /// ```swift
  /// try Decompressor.decompressFile(atPath: "images.idx.bba", toPath: "images.idx")
  /// ```
  /// - Parameters:
  ///   - inputPath: the container to decompress (a regular file, a pipe, or "-" for standard input).
  ///   - outputPath: the original file to write (a path, not "-").
  ///   - models: models to use besides the built-in ones (a weights file's, for a container
  ///     made with it).
  ///   - threadCount: chunks decoded at once.
  ///   - overwrite: replace a regular file (or a symbolic link itself) at `outputPath`.
  ///   - progress: called from time to time with the work done and the total.
  /// - Throws: `FileOutputError` when the output cannot be made, and whatever
  ///   `decompress(source:models:threadCount:gzipEncoding:progress:write:)` throws.
  @discardableResult
  public static func decompressFile(
    atPath inputPath: String, toPath outputPath: String, models: [CodingModel] = [],
    threadCount: Int = 2, overwrite: Bool = false,
    progress: ((_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> DecompressionReport {
    try AtomicFile.checkDistinct(input: inputPath, output: outputPath)
    let source = try FileByteSource(path: inputPath)
    let output = try AtomicFile(path: outputPath, overwrite: overwrite)
    do {
      let report: DecompressionReport
      do {
        report = try decompress(source: source, models: models, threadCount: threadCount, progress: progress) {
          try output.write($0)
        }
      } catch BitsBackError.rebuildNeedsEncoding(let encoding) where inputPath != "-" {
        try output.restart()
        report = try decompress(
          source: try FileByteSource(path: inputPath), models: models, threadCount: threadCount,
          gzipEncoding: encoding, progress: progress
        ) { try output.write($0) }
      }
      try output.commit()
      return report
    } catch {
      output.discard()
      throw error
    }
  }
}

/// A file written under a temporary name beside its path and moved there only when complete.
final class AtomicFile {
  let path: String
  private let temporary: String
  private let folder: String
  private let overwrite: Bool
  private var descriptor: Int32
  private var finished = false

  /// - Throws: `FileOutputError.exists` when something stands at `path` and `overwrite` is
  ///   false, `.cannotWrite` for a directory, a device, a FIFO or a socket at `path`, or a
  ///   folder that takes no new file.
  init(path: String, overwrite: Bool) throws {
    guard !path.isEmpty, path != "-" else {
      throw FileOutputError.cannotWrite(path: path, reason: "a path is needed, not standard output")
    }
    self.path = path
    self.overwrite = overwrite
    var info = stat()
    if lstat(path, &info) == 0 {
      let kind = info.st_mode & S_IFMT
      if kind == S_IFDIR { throw FileOutputError.cannotWrite(path: path, reason: "it is a directory") }
      if kind != S_IFREG && kind != S_IFLNK {
        throw FileOutputError.cannotWrite(path: path, reason: "it is not a regular file")
      }
      if !overwrite { throw FileOutputError.exists(path: path) }
    }
    let url = URL(fileURLWithPath: path)
    folder = url.deletingLastPathComponent().path
    var made: (String, Int32)?
    for attempt in 0..<100 {
      let name = folder + "/." + url.lastPathComponent + ".bbans-\(getpid())\(attempt == 0 ? "" : ".\(attempt)")-tmp"
      let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if fd >= 0 {
        made = (name, fd)
        break
      }
      if errno != EEXIST { throw FileOutputError.cannotWrite(path: path, reason: Self.errnoText()) }
    }
    guard let made else { throw FileOutputError.cannotWrite(path: path, reason: "no free name for a temporary file in \(folder)") }
    (temporary, descriptor) = made
  }

  deinit { discard() }

  /// Throws `FileOutputError.sameFile` when `output` names the file `input` (by device and inode).
  static func checkDistinct(input: String, output: String) throws {
    var a = stat(), b = stat()
    guard input != "-", stat(input, &a) == 0, stat(output, &b) == 0 else { return }
    if a.st_dev == b.st_dev && a.st_ino == b.st_ino { throw FileOutputError.sameFile(path: output) }
  }

  func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if count < 0 {
          if errno == EINTR { continue }
          throw FileOutputError.cannotWrite(path: path, reason: Self.errnoText())
        }
        offset += count
      }
    }
  }

  /// Empties the temporary file, to write it again from the start.
  func restart() throws {
    guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
      throw FileOutputError.cannotWrite(path: path, reason: Self.errnoText())
    }
  }

  /// Flushes the temporary file and moves it to the path: over what is there with `overwrite`,
  /// else only if nothing has appeared there meanwhile.
  func commit() throws {
    guard !finished else { return }
    guard fsync(descriptor) == 0 else { throw FileOutputError.cannotWrite(path: path, reason: Self.errnoText()) }
    close(descriptor)
    descriptor = -1
    if overwrite {
      guard rename(temporary, path) == 0 else { throw FileOutputError.cannotWrite(path: path, reason: Self.errnoText()) }
    } else {
      try Self.move(temporary, toNew: path)
    }
    finished = true
    // The new name lasts through a crash only once its folder is on disk too.
    let fd = open(folder, O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
      _ = fsync(fd)
      close(fd)
    }
  }

  /// Removes the temporary file; nothing at the path is touched.
  func discard() {
    guard !finished else { return }
    finished = true
    if descriptor >= 0 { close(descriptor) }
    descriptor = -1
    unlink(temporary)
  }

  /// renameat2(2), which Swift's Glibc module does not declare (glibc has it since 2.28).
  private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
  private static let renameat2: RenameAt2? = {
    guard let library = dlopen(nil, RTLD_NOW), let symbol = dlsym(library, "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: RenameAt2.self)
  }()

  /// Moves `temporary` to `path` only if nothing is there, in one step: renameat2 with
  /// RENAME_NOREPLACE, or link(2) (which never replaces) and unlink(2).
  private static func move(_ temporary: String, toNew path: String) throws {
    let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, from <linux/fs.h>
    if let renameat2 {
      if renameat2(AT_FDCWD, temporary, AT_FDCWD, path, renameNoReplace) == 0 { return }
      let failure = errno
      if failure == EEXIST { throw FileOutputError.exists(path: path) }
      if failure != EINVAL && failure != ENOSYS && failure != EOPNOTSUPP {
        throw FileOutputError.cannotWrite(path: path, reason: String(cString: strerror(failure)))
      }
    }
    if link(temporary, path) != 0 {
      let failure = errno
      throw failure == EEXIST
        ? FileOutputError.exists(path: path)
        : FileOutputError.cannotWrite(path: path, reason: String(cString: strerror(failure)))
    }
    unlink(temporary)
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}
