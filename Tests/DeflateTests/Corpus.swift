import TestSupport

/// One input of the corpus, named for the failure messages.
struct CorpusCase: CustomStringConvertible, Sendable {
  let name: String
  let bytes: [UInt8]
  var description: String { "\(name) (\(bytes.count) bytes)" }
}

/// Generated inputs that reach gzip's paths: tiny files, runs of zeros (matches of 258,
/// window slides), random bytes (stored blocks), text, IDX images, and mixtures whose sizes
/// sit around gzip's boundaries (32 KiB halves, the 64 KiB window, MIN_LOOKAHEAD).
enum Corpus {
  static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

  static func random(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }

  /// Words from a small vocabulary with spaces and line breaks: many short matches.
  static func text(_ count: Int, seed: UInt64) -> [UInt8] {
    let words = [
      "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "deflate", "window",
      "hash", "chain", "block", "tree", "literal", "distance", "length", "gzip", "bits",
    ].map { Array($0.utf8) }
    var generator = SeededGenerator(seed: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 16)
    while bytes.count < count {
      bytes += words[Int.random(in: 0..<words.count, using: &generator)]
      bytes.append(Int.random(in: 0..<12, using: &generator) == 0 ? 10 : 32)
    }
    return Array(bytes.prefix(count))
  }

  /// Bytes uniform in 0..<`alphabet`: matches of 3 and 4 everywhere, and long chains.
  static func noise(_ count: Int, alphabet: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(Int.random(in: 0..<alphabet, using: &generator)) }
  }

  /// An IDX file (magic 0x00000803) of `images` images of 28 × 28.
  static func idx(images: Int, pixels: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, 8, 3]
    for dimension in [images, 28, 28] {
      bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
    }
    return bytes + pixels
  }

  /// Digit-like images in the manner of MNIST: a black background and two to four thick,
  /// anti-aliased curved strokes (quadratic Bézier curves) near the centre.
  static func digits(images: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: images * 28 * 28)
    for image in 0..<images {
      var ink = [Double](repeating: 0, count: 28 * 28)
      for _ in 0..<Int.random(in: 2...4, using: &generator) {
        let p = (0..<3).map { _ in
          (Double.random(in: 6...22, using: &generator), Double.random(in: 5...23, using: &generator))
        }
        let width = Double.random(in: 1.2...2.4, using: &generator)
        for step in 0...40 {
          let t = Double(step) / 40
          let x = (1 - t) * (1 - t) * p[0].0 + 2 * (1 - t) * t * p[1].0 + t * t * p[2].0
          let y = (1 - t) * (1 - t) * p[0].1 + 2 * (1 - t) * t * p[1].1 + t * t * p[2].1
          for row in max(0, Int(y) - 3)...min(27, Int(y) + 3) {
            for column in max(0, Int(x) - 3)...min(27, Int(x) + 3) {
              let d = ((Double(column) - x) * (Double(column) - x) + (Double(row) - y) * (Double(row) - y)).squareRoot()
              ink[row * 28 + column] = max(ink[row * 28 + column], min(1, max(0, (width + 0.5 - d))))
            }
          }
        }
      }
      for i in 0..<(28 * 28) { pixels[image * 784 + i] = UInt8((ink[i] * 255).rounded()) }
    }
    return idx(images: images, pixels: pixels)
  }

  /// A concatenation of pieces of the kinds above, cut to exactly `count` bytes.
  static func mixture(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
      let length = Int.random(in: 1...20_000, using: &generator)
      let pieceSeed = generator.next()
      switch Int.random(in: 0..<5, using: &generator) {
      case 0: bytes += zeros(length)
      case 1: bytes += random(length, seed: pieceSeed)
      case 2: bytes += text(length, seed: pieceSeed)
      case 3: bytes += noise(length, alphabet: 4, seed: pieceSeed)
      default: bytes += Array(digits(images: length / 784 + 1, seed: pieceSeed).prefix(length))
      }
    }
    return Array(bytes.prefix(count))
  }

  /// The generated corpus: a few dozen inputs, each compared at all nine levels.
  static let cases: [CorpusCase] = {
    var cases: [CorpusCase] = [
      CorpusCase(name: "empty", bytes: []),
      CorpusCase(name: "one byte", bytes: [0x41]),
      CorpusCase(name: "two bytes", bytes: [0, 0]),
      CorpusCase(name: "three bytes", bytes: Array("abc".utf8)),
      CorpusCase(name: "three zeros", bytes: zeros(3)),
      CorpusCase(name: "four equal", bytes: [7, 7, 7, 7]),
    ]
    for count in [1000, 32768, 65536, 65537, 100_000, 3_000_000] {
      cases.append(CorpusCase(name: "zeros", bytes: zeros(count)))
    }
    for (index, count) in [100, 40_000, 70_000, 200_000].enumerated() {
      cases.append(CorpusCase(name: "random", bytes: random(count, seed: 100 + UInt64(index))))
    }
    for (index, count) in [10_000, 300_000].enumerated() {
      cases.append(CorpusCase(name: "text", bytes: text(count, seed: 200 + UInt64(index))))
    }
    cases.append(CorpusCase(name: "noise 0..<16 IDX", bytes: idx(images: 50, pixels: noise(50 * 784, alphabet: 16, seed: 7))))
    cases.append(CorpusCase(name: "noise 0..<2", bytes: noise(150_000, alphabet: 2, seed: 8)))
    cases.append(CorpusCase(name: "digits IDX", bytes: digits(images: 300, seed: 9)))
    // Sizes at the 32 KiB half window, at the point where the window slides
    // (64 KiB − MIN_LOOKAHEAD), at the full window, and one slide later.
    let boundaries = [32767, 32768, 32769, 65273, 65274, 65275, 65535, 65536, 65537, 98303, 98304, 98305, 131_072]
    for (index, count) in boundaries.enumerated() {
      cases.append(CorpusCase(name: "mixture", bytes: mixture(count, seed: 300 + UInt64(index))))
    }
    for (index, count) in [65535, 65536, 98304].enumerated() {
      cases.append(CorpusCase(name: "digits then zeros", bytes: Array(digits(images: 90, seed: 400 + UInt64(index)).prefix(count - 3000)) + zeros(3000)))
    }
    return cases
  }()

  /// Inputs at the 8 MiB boundary, each with the level it is compared at (gzip at high levels
  /// is slow on this much): half zeros, half a mixture.
  static let large: [(CorpusCase, Int)] = zip([(8 << 20) - 1, 8 << 20, (8 << 20) + 1], [1, 6, 9]).map { count, level in
    let bytes = zeros(count / 2) + mixture(count - count / 2, seed: 500 + UInt64(level))
    return (CorpusCase(name: "large mixture", bytes: bytes), level)
  }
}
