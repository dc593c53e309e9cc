/// Why a .bba file could not be read or written.
///
/// Each case carries the evidence (what the file says, what was computed or allowed, where), and
/// `description` is one full sentence that a command-line tool can print as it is.
public enum ContainerError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The first 8 bytes are not the .bba magic (fewer when the input is shorter).
  case notAContainer(foundMagic: [UInt8])
  /// The file's version is not one this reader knows: a major version other than 1 (full
  /// form) and 2 (compact form), or a compact form of a later minor version. `supported` is
  /// the highest major version this reader knows.
  case unsupportedVersion(found: ContainerVersion, supported: UInt16)
  /// The input ended inside `section`, which needs `needed` bytes from `offset`; only
  /// `available` were there.
  case truncated(section: String, offset: UInt64, needed: UInt64, available: UInt64)
  /// The header's bytes do not hash to the checksum stored after them.
  case headerChecksumMismatch(stored: UInt64, computed: UInt64)
  /// A chunk record's bytes do not hash to the checksum stored in it.
  case recordChecksumMismatch(chunkIndex: Int, stored: UInt64, computed: UInt64)
  /// A chunk's payload does not hash to the checksum stored in its record.
  case chunkChecksumMismatch(chunkIndex: Int, stored: UInt64, computed: UInt64)
  /// The bytes a chunk decoded to do not hash to the raw checksum stored in its record.
  case rawChecksumMismatch(chunkIndex: Int, stored: UInt64, computed: UInt64)
  /// The trailer's bytes do not hash to the checksum stored after them.
  case trailerChecksumMismatch(stored: UInt64, computed: UInt64)
  /// A chunk uses a method code this reader does not know.
  case unknownMethod(code: UInt8, chunkIndex: Int)
  /// A count, size or length is above the format's limit.
  case limitExceeded(field: String, value: UInt64, limit: UInt64)
  /// Where a chunk record or the trailer should start, another tag stands.
  case unexpectedTag(found: [UInt8], offset: UInt64)
  /// A chunk whose method is not bits-back has a lane count other than 0: only bits-back
  /// chunks have lanes.
  case unexpectedLaneCount(chunkIndex: Int, method: ChunkMethod, laneCount: UInt16)
  /// A chunk of a container that names no model has an item count other than 0: without a
  /// model the chunks hold opaque bytes, not items.
  case unexpectedItemCount(chunkIndex: Int, itemCount: UInt32)
  /// The trailer or footer disagrees with the chunks that were read (`field` names what).
  case trailerMismatch(field: String, stored: UInt64, actual: UInt64)
  /// The file breaks a rule of the format that no finer case names; the string says which.
  case malformed(String)

  public var description: String {
    switch self {
    case .notAContainer(let found):
      return "The input is not a .bba container: it starts with \(hex(found)) instead of "
        + "\(hex(ContainerFormat.magic))."
    case .unsupportedVersion(let found, let supported):
      return "The container has format version \(found), but this reader only reads major "
        + "versions 1 to \(supported); a newer bbans may read it."
    case .truncated(let section, let offset, let needed, let available):
      return "The container is truncated: the \(section) at offset \(offset) needs \(needed) "
        + "bytes, but only \(available) are left."
    case .headerChecksumMismatch(let stored, let computed):
      return "The container header is damaged: its checksum says \(hex64(stored)), "
        + "its bytes give \(hex64(computed))."
    case .recordChecksumMismatch(let index, let stored, let computed):
      return "The record of chunk \(index) is damaged: its checksum says \(hex64(stored)), "
        + "its bytes give \(hex64(computed))."
    case .chunkChecksumMismatch(let index, let stored, let computed):
      return "The payload of chunk \(index) is damaged: its record says \(hex64(stored)), "
        + "the payload gives \(hex64(computed))."
    case .rawChecksumMismatch(let index, let stored, let computed):
      return "Chunk \(index) decoded to the wrong bytes: its record says \(hex64(stored)), "
        + "the decoded bytes give \(hex64(computed))."
    case .trailerChecksumMismatch(let stored, let computed):
      return "The container trailer is damaged: its checksum says \(hex64(stored)), "
        + "its bytes give \(hex64(computed))."
    case .unknownMethod(let code, let index):
      return "Chunk \(index) uses method \(code), which this reader does not know "
        + "(0 stored, 1 zstd, 2 bits-back)."
    case .limitExceeded(let field, let value, let limit):
      return "The \(field) is \(value), above the format's limit of \(limit)."
    case .unexpectedTag(let found, let offset):
      return "At offset \(offset) the container should continue with a chunk record or the "
        + "trailer, but it has the tag \(hex(found))."
    case .unexpectedLaneCount(let index, let method, let lanes):
      return "Chunk \(index) is a \(method) chunk with \(lanes) lanes, but only bits-back chunks "
        + "have lanes (its lane count must be 0)."
    case .unexpectedItemCount(let index, let items):
      return "Chunk \(index) claims \(items) items, but the container names no model, so its "
        + "chunks hold opaque bytes (their item count must be 0)."
    case .trailerMismatch(let field, let stored, let actual):
      return "The container's \(field) is \(stored) in the trailer, but the file gives "
        + "\(actual)."
    case .malformed(let reason):
      return "The container is malformed: \(reason)."
    }
  }
}

/// Bytes as "0x89 42 42 41" (at most 16 shown).
func hex(_ bytes: [UInt8]) -> String {
  if bytes.isEmpty { return "no bytes" }
  let shown = bytes.prefix(16).map { byte -> String in
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
  }
  return "0x" + shown.joined(separator: " ") + (bytes.count > 16 ? " …" : "")
}

/// A 64-bit value as 0x0123456789ABCDEF.
func hex64(_ value: UInt64) -> String {
  let digits = String(value, radix: 16, uppercase: true)
  return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
