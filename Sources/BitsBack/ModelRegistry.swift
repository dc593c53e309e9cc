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
///
/// A built-in model is current or **retired**: a retired one is a model that a retrained one
/// has replaced under its name ("mnist-v1" was "mnist"), kept byte for byte so that every
/// archive made with it still decodes. The archives record the old name and the hash of the
/// weights file; the decompressor finds the model by that hash (`builtin(identity:)`). A retired
/// model is not listed in `builtinNames` and never chosen from the data, but its own name
/// ("mnist-v1") still selects it (`builtin(named:)`).
public enum ModelRegistry {
  /// The names of the current built-in models, in the order they were compiled in: those that
  /// the compressor chooses from and `bbans models` lists.
  public static var builtinNames: [String] {
    currentIndices.map(name)
  }

  /// The names of the retired built-in models, in the order they were compiled in.
  public static var retiredNames: [String] {
    retiredIndices.map(name)
  }

  /// Every current built-in model, loaded anew on each call. A built-in file that does not
  /// load is left out (a broken build, which the tests catch).
  public static var builtins: [CodingModel] {
    currentIndices.compactMap(loadBuiltin)
  }

  /// Every retired built-in model, loaded anew on each call.
  public static var retiredBuiltins: [CodingModel] {
    retiredIndices.compactMap(loadBuiltin)
  }

  /// The name that the retired built-in model called `name` had when it was current (and that
  /// the archives made with it record): "mnist" for "mnist-v1"; nil for a current model or
  /// none.
  public static func formerName(ofBuiltin name: String) -> String? {
    builtinIndex(named: name).flatMap { index in
      bbans_builtin_model_at(index).former_name.map { String(cString: $0) }
    }
  }

  /// The built-in model called `name`, current or retired, or nil. A retired model goes by its
  /// own name ("mnist-v1"), never by the one it had ("mnist" is the current model).
  public static func builtin(named name: String) -> CodingModel? {
    builtinIndex(named: name).flatMap(loadBuiltin)
  }

  /// The built-in model, current or retired, whose weights file hashes to `identity`, or nil.
  /// The model called `name` is hashed first, when given; only the one found is loaded.
  public static func builtin(identity: UInt64, preferring name: String? = nil) -> CodingModel? {
    let named = name.flatMap(builtinIndex(named:))
    if let named, entryIdentity(named) == identity { return loadBuiltin(named) }
    let all = 0..<bbans_builtin_model_count()
    return all.first { $0 != named && entryIdentity($0) == identity }.flatMap(loadBuiltin)
  }

  /// The architecture the built-in model called `name` (current or retired) declares, read from
  /// its first bytes only (no tensors), or nil.
  public static func builtinArchitecture(named name: String) -> Architecture? {
    guard let index = builtinIndex(named: name) else { return nil }
    let entry = bbans_builtin_model_at(index)
    let prefix = Array(UnsafeBufferPointer(start: entry.bytes, count: min(entry.size, VAE.weightsFileHeaderLimit)))
    guard var architecture = try? VAE.architecture(ofWeightsFile: prefix) else { return nil }
    if let arithmetic = derivedArithmetic(entry) { architecture.arithmetic = arithmetic }
    return architecture
  }

  /// The arithmetic of a built-in model made from another entry's file (`bbans convert`'s
  /// model, not the file's own), or nil for the file's own model.
  private static func derivedArithmetic(_ entry: bbans_builtin_model) -> Arithmetic? {
    guard let name = entry.arithmetic else { return nil }
    // An unknown name is a broken build: the entry gets an arithmetic no file has (float32 is
    // never derived), so it fails to load and the tests say so.
    return Arithmetic(rawValue: String(cString: name)) ?? .float32
  }

  private static var currentIndices: [Int] {
    (0..<bbans_builtin_model_count()).filter { bbans_builtin_model_at($0).former_name == nil }
  }

  private static var retiredIndices: [Int] {
    (0..<bbans_builtin_model_count()).filter { bbans_builtin_model_at($0).former_name != nil }
  }

  private static func name(_ index: Int) -> String {
    String(cString: bbans_builtin_model_at(index).name)
  }

  private static func builtinIndex(named name: String) -> Int? {
    (0..<bbans_builtin_model_count()).first { Self.name($0) == name }
  }

  /// XXH64 of the built-in weights file at `index`: the identity of its model (for a model made
  /// from another arithmetic, the identity its entry records, which loading checks).
  private static func entryIdentity(_ index: Int) -> UInt64 {
    let entry = bbans_builtin_model_at(index)
    if entry.arithmetic != nil { return UInt64(entry.identity) }
    return XXH64.hash(UnsafeBufferPointer(start: entry.bytes, count: entry.size))
  }

  private static func loadBuiltin(_ index: Int) -> CodingModel? {
    let entry = bbans_builtin_model_at(index)
    let bytes = Array(UnsafeBufferPointer(start: entry.bytes, count: entry.size))
    guard var vae = try? VAE(contentsOf: bytes) else { return nil }
    var size = bytes.count
    if let arithmetic = derivedArithmetic(entry) {
      guard arithmetic != vae.architecture.arithmetic else { return nil }
      let (converted, file) = vae.convertedFile(
        to: arithmetic, figures: NegativeELBO(reconstruction: entry.reconstruction, kl: entry.kl))
      guard converted.identity == UInt64(entry.identity) else { return nil }
      vae = converted
      size = file.count
    }
    return CodingModel(name: String(cString: entry.name), vae: vae, fileSize: size)
  }

  /// The name that a model read from the weights file at `path` goes by (and that archives made
  /// with it record): the file's base name ("mine" for `models/mine.bbm`), unless that is the
  /// name of a built-in model (current or retired) with other weights: then the whole file name
  /// ("mnist.bbm"), so that an archive never names a built-in model it was not made with, and
  /// decompressing it says which file it needs.
  public static func fileModelName(path: String, identity: UInt64) -> String {
    let url = URL(fileURLWithPath: path)
    let base = url.deletingPathExtension().lastPathComponent
    guard let index = builtinIndex(named: base) else { return base }
    if entryIdentity(index) == identity { return base }
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
