import Model

/// Why a compression or decompression could not be done; each description is one sentence.
public enum BitsBackError: Error, Equatable, CustomStringConvertible {
  case unknownModel(String, available: [String])
  case unreadableModel(String)
  /// The weights file at `path` does not load (damaged, or numbers no model may hold).
  case invalidModelFile(path: String, reason: ModelError)
  /// The container names a model that this build does not have (and none was given).
  case modelUnavailable(name: String, hash: UInt64)
  /// The model given has another identity than the one the container was made with.
  case modelMismatch(name: String, expected: UInt64, found: UInt64)
  /// The data does not fit the model asked for.
  case modelDoesNotFit(model: String, reason: String)
  /// A bits-back chunk whose message does not decode cleanly.
  case corruptChunk(index: Int, reason: String)
  /// The side bytes of the container do not describe the data.
  case corruptSideBytes(String)
  /// The rebuilt file does not have the checksum that the container recorded.
  case originalChecksumMismatch(stored: UInt64, computed: UInt64)
  /// A size or count in the container is more than its data can hold, or disagrees with the
  /// other sizes; refused before anything of that size is allocated.
  case implausibleSize(String)
  /// The input changed while it was compressed (between the pass that learns what it is and
  /// the pass that codes it); nothing is kept.
  case inputChanged(firstSize: UInt64, secondSize: UInt64?)
  /// A container of an earlier bbans kept a gzip file's pixels without the encoder of its
  /// deflate stream; this encoder makes it: decompress again with it (the CLI does).
  case rebuildNeedsEncoding(DeflateEncoding)

  public var description: String {
    switch self {
    case let .unknownModel(name, available):
      return "there is no built-in model or model file called '\(name)' (built-in: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
    case let .unreadableModel(path):
      return "cannot read the model file \(path)"
    case let .invalidModelFile(path, reason):
      return "\(path): \(reason)"
    case let .modelUnavailable(name, hash):
      if ModelRegistry.builtinNames.contains(name) || ModelRegistry.retiredNames.contains(name) {
        // A built-in model of another build (retrained since, or not yet retired in this one).
        return "the file was compressed with the model '\(name)' (hash \(hex(hash))), which this build does not have: its built-in '\(name)' has other weights; decompress with the bbans that made the file, or pass that model's weights file with --model"
      }
      // A weights file's model goes by the file's base name (ModelRegistry.fileModelName).
      let file = name.contains(".") ? name : name + ".bbm"
      return "the file was compressed with the model '\(name)' (hash \(hex(hash))), which this build does not have; pass its weights file (\(file), as it was named when the file was compressed) with --model"
    case let .modelMismatch(name, expected, found):
      return "the file was compressed with the model '\(name)' of hash \(hex(expected)), but the model given has hash \(hex(found))"
    case let .modelDoesNotFit(model, reason):
      return "the data does not fit the model '\(model)': \(reason)"
    case let .corruptChunk(index, reason):
      return "chunk \(index) is corrupt: \(reason)"
    case let .corruptSideBytes(reason):
      return "the container's description of the original file is corrupt: \(reason)"
    case let .originalChecksumMismatch(stored, computed):
      return "the rebuilt file does not match: the container says its checksum is \(hex(stored)), the data gives \(hex(computed))"
    case let .implausibleSize(reason):
      return "the container is damaged or hostile: \(reason)"
    case let .inputChanged(firstSize, secondSize):
      let sizes = secondSize.map { $0 == firstSize ? "" : " (\(firstSize) bytes, then \($0))" } ?? ""
      return "the input changed while it was being compressed\(sizes); nothing was written"
    case let .rebuildNeedsEncoding(encoding):
      return "the original gzip file is rebuilt by \(encoding), not by the encoder its header suggests; decompress again with that one"
    }
  }
}

func hex(_ value: UInt64) -> String {
  let digits = String(value, radix: 16, uppercase: true)
  return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}
