import BuiltinModels
import Foundation
import Hashing
import Model

/// A model ready to code with: its name (as the container records it), its network and the
/// identity hash that guards against decoding with the wrong weights.
public struct CodingModel: @unchecked Sendable {
  public let name: String
  public let vae: VAE
  /// XXH64 of the weights file.
  public var identity: UInt64 { vae.identity }
  public var architecture: Architecture { vae.architecture }
  /// The size of the weights file in bytes.
  public let fileSize: Int
  /// The validation −ELBO in bits/dim recorded in the weights file by `bbans train`, if any.
  public var validationRate: Double? { vae.figures.total > 0 ? vae.figures.total : nil }

  public init(name: String, vae: VAE, fileSize: Int) {
    self.name = name
    self.vae = vae
    self.fileSize = fileSize
  }
}

/// The built-in models, and models loaded from files.
///
/// The built-in weights files are compiled into the binary; a model's tensors are read from
/// them only when it is asked for, and not kept, so a process holds just the models it uses
/// (each is about 7 MB of floats).
public enum ModelRegistry {
  /// The names of the built-in models, in the order they were compiled in.
  public static var builtinNames: [String] {
    (0..<bbans_builtin_model_count()).map { String(cString: bbans_builtin_model_at($0).name) }
  }

  /// Every built-in model, loaded anew on each call. A built-in file that does not load is
  /// left out (a broken build, which the tests catch).
  public static var builtins: [CodingModel] {
    (0..<bbans_builtin_model_count()).compactMap(loadBuiltin)
  }

  /// The built-in model called `name`, or nil.
  public static func builtin(named name: String) -> CodingModel? {
    builtinIndex(named: name).flatMap(loadBuiltin)
  }

  /// The built-in model whose weights file hashes to `identity`, or nil. Only that one is loaded.
  public static func builtin(identity: UInt64) -> CodingModel? {
    (0..<bbans_builtin_model_count()).first { index in
      let entry = bbans_builtin_model_at(index)
      return XXH64.hash(UnsafeBufferPointer(start: entry.bytes, count: entry.size)) == identity
    }.flatMap(loadBuiltin)
  }

  /// The architecture the built-in model called `name` declares, read from its first bytes
  /// only (no tensors), or nil.
  public static func builtinArchitecture(named name: String) -> Architecture? {
    guard let index = builtinIndex(named: name) else { return nil }
    let entry = bbans_builtin_model_at(index)
    let prefix = Array(UnsafeBufferPointer(start: entry.bytes, count: min(entry.size, VAE.weightsFileHeaderLimit)))
    return try? VAE.architecture(ofWeightsFile: prefix)
  }

  private static func builtinIndex(named name: String) -> Int? {
    (0..<bbans_builtin_model_count()).first { String(cString: bbans_builtin_model_at($0).name) == name }
  }

  private static func loadBuiltin(_ index: Int) -> CodingModel? {
    let entry = bbans_builtin_model_at(index)
    let bytes = Array(UnsafeBufferPointer(start: entry.bytes, count: entry.size))
    guard let vae = try? VAE(contentsOf: bytes) else { return nil }
    return CodingModel(name: String(cString: entry.name), vae: vae, fileSize: bytes.count)
  }

  /// The name that a model read from the weights file at `path` goes by (and that archives made
  /// with it record): the file's base name ("mine" for `models/mine.bbm`), unless that is the
  /// name of a built-in model with other weights: then the whole file name ("mnist.bbm"), so
  /// that an archive never names a built-in model it was not made with, and decompressing it
  /// says which file it needs.
  public static func fileModelName(path: String, identity: UInt64) -> String {
    let url = URL(fileURLWithPath: path)
    let base = url.deletingPathExtension().lastPathComponent
    guard let index = builtinIndex(named: base) else { return base }
    let entry = bbans_builtin_model_at(index)
    if XXH64.hash(UnsafeBufferPointer(start: entry.bytes, count: entry.size)) == identity { return base }
    let whole = url.lastPathComponent
    return whole != base ? whole : whole + " (file)"
  }

  /// A model by built-in name, or else by the path of a weights file.
  /// - Throws: `BitsBackError.unknownModel` when neither exists, `.invalidModelFile` (with the
  ///   reader's `ModelError`) when the file does not load. A file's model is named by
  ///   `fileModelName(path:identity:)`.
  public static func model(namedOrPath reference: String) throws -> CodingModel {
    if let model = builtin(named: reference) { return model }
    guard FileManager.default.fileExists(atPath: reference) else {
      throw BitsBackError.unknownModel(reference, available: builtinNames)
    }
    guard let data = FileManager.default.contents(atPath: reference) else {
      throw BitsBackError.unreadableModel(reference)
    }
    let bytes = [UInt8](data)
    let vae: VAE
    do { vae = try VAE(contentsOf: bytes) } catch let error as ModelError {
      throw BitsBackError.invalidModelFile(path: reference, reason: error)
    }
    return CodingModel(name: fileModelName(path: reference, identity: vae.identity), vae: vae, fileSize: bytes.count)
  }
}
