/// The limits of the command line's numbers, and their checks.
///
/// Every numeric option is checked in `validate()`, before anything is read or written, so
/// that no value reaches arithmetic that could overflow (a chunk count from `--chunk`, a thread
/// group from `--threads`) or a model that could not be built. The error is one line:
/// `bbans: error: --threads must be in 1...1024 (got 9223372036854775807)`.
enum OptionLimits {
  /// Threads to code or train on.
  static let threads = 1...1024
  /// Images per chunk: a chunk record counts its images in 32 bits.
  static let chunkImages = 1...Int(UInt32.max)
  /// BB-ANS chains in a chunk.
  static let lanes = 1...4096
  /// Epochs, validation intervals and KL warm-up epochs of `bbans train`.
  static let epochs = 1...1_000_000
  /// Images per training step.
  static let batchSize = 1...65536
  /// Images held out of the training file for validation.
  static let validationImages = 0...Int(UInt32.max)
  /// Width of a hidden layer, and the most hidden layers, as a weights file allows them.
  static let hiddenWidth = 1...65536
  static let hiddenLayers = 16
}

/// A command-line value that bbans refuses; its description is the whole error line.
struct OptionError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Throws unless `value` is in `range`.
func check(_ option: String, _ value: Int, in range: ClosedRange<Int>) throws {
  guard range.contains(value) else {
    throw OptionError("\(option) must be in \(range.lowerBound)...\(range.upperBound) (got \(value))")
  }
}

/// Throws unless `value` lies between `lower` and `upper` (each bound included or not, as the
/// message writes it: "[0, 1)"); NaN and ±∞ never do.
func check(_ option: String, _ value: Double, from lower: Double, included lowerIncluded: Bool,
           to upper: Double, included upperIncluded: Bool) throws {
  let aboveLower = lowerIncluded ? value >= lower : value > lower
  let belowUpper = upperIncluded ? value <= upper : value < upper
  guard aboveLower && belowUpper else {
    let interval = "\(lowerIncluded ? "[" : "(")\(number(lower)), \(number(upper))\(upperIncluded ? "]" : ")")"
    throw OptionError("\(option) must be in \(interval) (got \(value))")
  }
}

/// A bound as people write it: 0 and 1 rather than 0.0 and 1.0.
private func number(_ x: Double) -> String {
  x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
