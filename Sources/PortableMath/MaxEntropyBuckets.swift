// Max-entropy discretization of a standard normal latent.

/// The 2^bits buckets of equal mass 2^−bits under N(0, 1): the max-entropy discretization of a
/// latent dimension (Townsend, Bird and Barber, ICLR 2019), under which the prior is uniform.
///
/// Built with `Portable.normalQuantile`, so the edges and centres are the same bits on every
/// machine. They are exactly symmetric, by construction: `edges[i] == -edges[count - i]` and
/// `centres[i] == -centres[count - 1 - i]`, bit for bit.
public struct MaxEntropyBuckets: Sendable, Equatable {
  /// log₂ of the number of buckets, in 1...16.
  public let bits: Int

  /// The number of buckets, 2^bits.
  public var count: Int { 1 << bits }

  /// The count + 1 bucket edges: edges[0] = −∞, edges[i] = Φ⁻¹(i/count), edges[count] = +∞.
  public let edges: [Double]

  /// centres[i] = Φ⁻¹((i + ½)/count): the bucket's median, the value the decoder network sees.
  public let centres: [Double]

  /// Computes the edges and centres of the 2^bits buckets.
  ///
  /// - Precondition: `bits` is in 1...16.
  /// - Complexity: 2^bits quantiles, about 0.2 µs each.
  public init(bits: Int) {
    precondition((1...16).contains(bits), "MaxEntropyBuckets: bits must be in 1...16, got \(bits)")
    self.bits = bits
    let count = 1 << bits
    let half = count / 2
    var edges = [Double](repeating: 0, count: count + 1)
    edges[0] = -.infinity
    edges[count] = .infinity
    for i in 1..<half {  // edges[half] = Φ⁻¹(1/2) = 0
      let edge = Portable.normalQuantile(Double(i) / Double(count))
      edges[i] = edge
      edges[count - i] = -edge
    }
    var centres = [Double](repeating: 0, count: count)
    for i in 0..<half {
      let centre = Portable.normalQuantile(Double(2 * i + 1) / Double(2 * count))
      centres[i] = centre
      centres[count - 1 - i] = -centre
    }
    self.edges = edges
    self.centres = centres
  }

  /// The bucket that holds x, the i with edges[i] ≤ x < edges[i + 1] (+∞ goes to the last).
  ///
  /// - Precondition: x is not NaN.
  /// - Complexity: O(bits), a binary search over the edges.
  public func bucket(containing x: Double) -> Int {
    precondition(!x.isNaN, "MaxEntropyBuckets.bucket(containing:): x is NaN")
    // The last index in 0..<count whose edge is at most x (edges[0] = −∞ always is), in `bits`
    // halvings of a step without a branch: a bisection's branches go either way at random here.
    return edges.withUnsafeBufferPointer { e in
      var low = 0
      var step = count >> 1
      while step > 0 {
        low &+= e[low &+ step] <= x ? step : 0
        step >>= 1
      }
      return low
    }
  }
}
