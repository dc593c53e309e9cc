#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Container

/// The bytes of a file to compress, read from the start as often as the compressor asks.
///
/// The compressor reads its input twice, never holding it whole: a first pass learns what the
/// file is (its format, size and checksum, whether its gzip stream can be rebuilt exactly),
/// because the container's header, written first, records all of that; a second pass codes it.
///
/// Example:
/// ```swift
/// var input = try FileInput(path: "train-images-idx3-ubyte.gz")
/// let report = try Compressor.compress(&input) { piece in try output.write(piece) }
/// ```
public protocol CompressionInput {
  /// Reads the next bytes into `buffer`: their count, 0 only at the end of the input.
  mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
  /// Goes back to the first byte.
  mutating func rewind() throws
}

/// An input in memory.
public struct MemoryInput: CompressionInput, Sendable {
  public let bytes: [UInt8]
  private var position = 0

  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let count = min(buffer.count, bytes.count - position)
    if count > 0 {
      bytes.withUnsafeBytes { source in
        buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: count)
      }
    }
    position += count
    return count
  }

  public mutating func rewind() throws { position = 0 }
}

/// A file, standard input or a pipe, read through its descriptor.
///
/// A regular file is read again from its start. Anything that cannot seek (a pipe, a FIFO,
/// standard input, a character device) is copied, as it is first read, to an unnamed temporary
/// file (in `TMPDIR`, else /tmp), which later passes read: memory stays bounded, and the disk
/// holds one copy of the input for as long as the compression runs.
public final class FileInput: CompressionInput {
  /// The path, for messages ("-" for standard input).
  public let path: String
  private let descriptor: Int32
  private let ownsDescriptor: Bool
  /// The copy of a stream input, once the first pass has begun; nil for regular files.
  private var spool: Int32?
  /// Whether reads come from the spool (after the first rewind) or the descriptor.
  private var readingSpool = false
  private let seekable: Bool
  /// Where a seekable input starts (its offset when opened).
  private let start: off_t

  /// Opens `path` for reading ("-" is standard input).
  /// - Throws: `IOError.fileAccess` when it cannot be opened or is a directory.
  public init(path: String) throws {
    self.path = path
    if path == "-" {
      descriptor = 0
      ownsDescriptor = false
    } else {
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { throw IOError.fileAccess(path: path, reason: Self.errnoText()) }
      descriptor = fd
      ownsDescriptor = true
    }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      let reason = Self.errnoText()
      if ownsDescriptor { close(descriptor) }
      throw IOError.fileAccess(path: path, reason: reason)
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR {
      if ownsDescriptor { close(descriptor) }
      throw IOError.fileAccess(path: path, reason: "it is a directory")
    }
    // Standard input redirected from a file may start past the file's first byte: the input
    // is what follows that offset, and a rewind goes back to it.
    start = kind == S_IFREG ? lseek(descriptor, 0, SEEK_CUR) : -1
    seekable = start >= 0
  }

  deinit {
    if ownsDescriptor { close(descriptor) }
    if let spool { close(spool) }
  }

  public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard buffer.count > 0 else { return 0 }
    let fd = readingSpool ? spool! : descriptor
    while true {
      let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
      if count >= 0 {
        if !seekable && !readingSpool && count > 0 { try copyToSpool(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
        return count
      }
      if errno != EINTR { throw IOError.fileAccess(path: path, reason: Self.errnoText()) }
    }
  }

  public func rewind() throws {
    if seekable {
      guard lseek(descriptor, start, SEEK_SET) == start else { throw IOError.fileAccess(path: path, reason: Self.errnoText()) }
      return
    }
    // A stream: the rest of it goes to the spool first, then the spool is read from its start.
    if !readingSpool {
      try withUnsafeTemporaryAllocation(byteCount: 1 << 16, alignment: 16) { buffer in
        while try read(into: buffer) > 0 {}
      }
      readingSpool = true
      if spool == nil { try openSpool() }
    }
    guard lseek(spool!, 0, SEEK_SET) == 0 else { throw IOError.fileAccess(path: path, reason: Self.errnoText()) }
  }

  private func openSpool() throws {
    let folder = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((folder + "/bbans-input-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw IOError.fileAccess(path: folder, reason: "no temporary copy of the streamed input can be made there (\(Self.errnoText()))")
    }
    // Unnamed at once: nothing is left behind, whatever happens to the process.
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    spool = fd
  }

  private func copyToSpool(_ bytes: UnsafeRawBufferPointer) throws {
    if spool == nil { try openSpool() }
    var offset = 0
    while offset < bytes.count {
      let written = write(spool!, bytes.baseAddress! + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        throw IOError.fileAccess(path: path, reason: "its temporary copy cannot be written (\(Self.errnoText()))")
      }
      offset += written
    }
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A container file read as a stream, for the decompressor (a regular file, a pipe or
/// standard input); it knows how many bytes are left when the file is regular.
public final class FileByteSource: ByteSource {
  public let path: String
  private let input: FileInput
  private var left: UInt64?

  /// - Throws: `IOError.fileAccess`.
  public init(path: String) throws {
    self.path = path
    input = try FileInput(path: path)
    if path != "-" {
      var info = stat()
      if stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG { left = UInt64(info.st_size) }
    }
  }

  public func read(upTo maxCount: Int) throws -> [UInt8] {
    let wanted = max(0, min(maxCount, 1 << 20))
    var bytes = [UInt8](repeating: 0, count: wanted)
    let count = try bytes.withUnsafeMutableBytes { try input.readDirect(into: $0) }
    bytes.removeLast(wanted - count)
    if let l = left { left = l >= UInt64(count) ? l - UInt64(count) : 0 }
    return bytes
  }

  public var remainingByteCount: UInt64? { left }
}

extension FileInput {
  /// Reads without keeping a copy for a later pass (the decompressor reads once).
  func readDirect(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard buffer.count > 0 else { return 0 }
    while true {
      let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
      if count >= 0 { return count }
      if errno != EINTR { throw IOError.fileAccess(path: path, reason: Self.errnoText()) }
    }
  }
}
