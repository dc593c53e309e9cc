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
public enum ModelRegistry {
  /// The names of the built-in models, in the order they were compiled in.
  public static var builtinNames: [String] {
    (0..<bbans_builtin_model_count()).map { String(cString: bbans_builtin_model_at($0).name) }
  }

  /// The built-in models, loaded once.
  public static let builtins: [CodingModel] = (0..<bbans_builtin_model_count()).compactMap { index in
    let entry = bbans_builtin_model_at(index)
    let bytes = Array(UnsafeBufferPointer(start: entry.bytes, count: entry.size))
    // A built-in file that does not load is a broken build, caught by the tests.
    guard let vae = try? VAE(contentsOf: bytes) else { return nil }
    return CodingModel(name: String(cString: entry.name), vae: vae, fileSize: bytes.count)
  }

  /// The built-in model called `name`, or nil.
  public static func builtin(named name: String) -> CodingModel? {
    builtins.first { $0.name == name }
  }

  /// A model by built-in name, or else by the path of a weights file.
  /// - Throws: `BitsBackError.unknownModel` when neither exists, the model file's own error
  ///   when the file does not load.
  public static func model(namedOrPath reference: String) throws -> CodingModel {
    if let model = builtin(named: reference) { return model }
    guard FileManager.default.fileExists(atPath: reference) else {
      throw BitsBackError.unknownModel(reference, available: builtinNames)
    }
    guard let data = FileManager.default.contents(atPath: reference) else {
      throw BitsBackError.unreadableModel(reference)
    }
    let bytes = [UInt8](data)
    let vae = try VAE(contentsOf: bytes)
    let name = URL(fileURLWithPath: reference).deletingPathExtension().lastPathComponent
    return CodingModel(name: name, vae: vae, fileSize: bytes.count)
  }
}
