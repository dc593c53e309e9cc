// MaxEntropyBuckets: symmetry, order, equal mass, and the bucket search.

import Foundation
import PortableMath
import Testing

@Suite struct MaxEntropyBucketsTests {
  @Test(arguments: [1, 2, 3, 8, 12])
  func edgesAreSymmetricIncreasingAndOfEqualMass(bits: Int) {
    let buckets = MaxEntropyBuckets(bits: bits)
    let count = buckets.count
    #expect(count == 1 << bits)
    #expect(buckets.edges.count == count + 1)
    #expect(buckets.centres.count == count)
    #expect(buckets.edges[0] == -.infinity)
    #expect(buckets.edges[count] == .infinity)
    #expect(buckets.edges[count / 2] == 0)
    for i in 0...count where i != count / 2 {  // the middle edge is 0, its negation −0
      #expect(buckets.edges[i].bitPattern == (-buckets.edges[count - i]).bitPattern, "edge \(i)")
    }
    for i in 0..<count {
      #expect(buckets.centres[i].bitPattern == (-buckets.centres[count - 1 - i]).bitPattern)
      #expect(buckets.edges[i] < buckets.centres[i] && buckets.centres[i] < buckets.edges[i + 1])
    }
    var worst = 0.0
    for i in 1..<count {
      let mass = Foundation.erfc(-buckets.edges[i] / 2.0.squareRoot()) / 2
      let target = Double(i) / Double(count)
      worst = max(worst, Swift.abs(mass - target) / min(target, 1 - target))
    }
    #expect(worst < 1e-13, "Φ(edges[i]) differs from i/count by \(worst) (relative)")
  }

  @Test func bucketContainingFindsTheBucket() {
    let buckets = MaxEntropyBuckets(bits: 8)
    #expect(buckets.bucket(containing: -.infinity) == 0)
    #expect(buckets.bucket(containing: -1e300) == 0)
    #expect(buckets.bucket(containing: 1e300) == 255)
    #expect(buckets.bucket(containing: .infinity) == 255)
    #expect(buckets.bucket(containing: 0) == 128)
    #expect(buckets.bucket(containing: -0.0) == 128)
    for i in 1..<buckets.count {
      let edge = buckets.edges[i]
      #expect(buckets.bucket(containing: edge) == i)
      #expect(buckets.bucket(containing: edge.nextDown) == i - 1)
      #expect(buckets.bucket(containing: buckets.centres[i]) == i)
    }
  }

  @Test func sixteenBitsBuildsAndIsEqualToItself() {
    let a = MaxEntropyBuckets(bits: 16)
    #expect(a.count == 65_536)
    #expect(a == MaxEntropyBuckets(bits: 16))
    #expect(a != MaxEntropyBuckets(bits: 15))
  }
}
