// The C logistic mixture (CDense's mixture.c) against the Swift codec it replaces on the coding
// path: at every kernel level, every interval it finds is the Swift codec's, for ordinary,
// extreme and fallback-forcing parameters, 1-4 components, and lane counts around its vector
// width (8) and block (64); the lane-batched push and pop give the same message as one lane
// at a time.

import ANS
@_spi(Benchmarks) import BitsBack
@_spi(Benchmarks) import Model
import Testing
import TestSupport

@Suite struct MixtureKernelTests {
  static let laneCounts = [1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 63, 64, 65, 70]

  /// Raw parameters [logits, means, log-scales] of `lanes` pixels: ordinary ones mostly, some
  /// with extreme values, and some made to take the exp off its main path (a logit 720 below
  /// the largest: a subnormal softmax weight; a narrow component about 0.66 from the lowest
  /// edge: e^−712 in C(1)'s sigmoid), which the C version must leave to the Swift path.
  static func parameters(lanes: Int, components k: Int, using generator: inout TestSupport.SeededGenerator) -> [Float] {
    let extremes: [Float] = [.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                             1e30, -1e30, 709.7, 709.8, 710, -7, -7.5, 0, -0.0, .leastNonzeroMagnitude, 88.8]
    var raw = [Float]()
    for _ in 0..<lanes {
      var p = (0..<k).map { _ in Float.random(in: -4...4, using: &generator) }
        + (0..<k).map { _ in Float.random(in: -1.1...1.1, using: &generator) }
        + (0..<k).map { _ in Float.random(in: -7.5...1, using: &generator) }
      switch Int.random(in: 0..<10, using: &generator) {
      case 0: p[Int.random(in: 0..<(3 * k), using: &generator)] = extremes.randomElement(using: &generator)!
      case 1 where k > 1: p[0] = 0; p[1] = -720
      case 2: p[k] = -0.336; p[2 * k] = -7
      default: break
      }
      raw += p
    }
    return raw
  }

  static var levels: [Int] { Array(0...DenseKernel.supportedLevel) }

  @Test(arguments: 1...4)
  func everyLevelFindsTheSwiftCodecsIntervals(_ k: Int) {
    var generator = TestSupport.SeededGenerator(seed: UInt64(40 + k))
    var leftToSwift = 0, ordinaryLeft = 0
    for lanes in Self.laneCounts {
      for _ in 0..<6 {
        let raw = Self.parameters(lanes: lanes, components: k, using: &generator)
        // Slots: small ones (pixel 0 mostly), anywhere, and the largest.
        let slots: [UInt32] = (0..<lanes).map { _ in
          switch Int.random(in: 0..<4, using: &generator) {
          case 0: return UInt32.random(in: 0..<4096, using: &generator)
          case 1: return (1 << 24) - 1 - UInt32.random(in: 0..<16, using: &generator)
          default: return UInt32.random(in: 0..<(1 << 24), using: &generator)
          }
        }
        let symbols: [UInt8] = (0..<lanes).map { _ in
          Bool.random(using: &generator) ? [0, 1, 254, 255].randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
        }
        let stride = 3 * k
        raw.withUnsafeBufferPointer { r in
          let expectedPops = (0..<lanes).map { MixtureKernel.swiftPop(raw: r.baseAddress! + $0 * stride, components: k, slot: slots[$0]) }
          let expectedPushes = (0..<lanes).map {
            MixtureKernel.swiftPush(raw: r.baseAddress! + $0 * stride, components: k, symbol: symbols[$0])
          }
          for level in Self.levels {
            var pops = [MixtureKernel.Interval](repeating: .init(symbol: 0, start: 0, frequency: 0), count: lanes)
            var pushes = pops
            let leftPops = MixtureKernel.pop(lanes: lanes, raw: r.baseAddress!, stride: stride, components: k,
                                             slots: slots, level: level, into: &pops)
            let leftPushes = MixtureKernel.push(lanes: lanes, raw: r.baseAddress!, stride: stride, components: k,
                                                symbols: symbols, symbolStride: 1, level: level, into: &pushes)
            #expect(leftPops == pops.filter { $0.symbol < 0 }.count && leftPushes == pushes.filter { $0.symbol < 0 }.count)
            for i in 0..<lanes {
              if pops[i].symbol >= 0 {
                #expect(pops[i] == expectedPops[i], "level \(level), \(k) components, lane \(i) of \(lanes), slot \(slots[i])")
              }
              if pushes[i].symbol >= 0 {
                #expect(pushes[i] == expectedPushes[i], "level \(level), \(k) components, lane \(i) of \(lanes), pixel \(symbols[i])")
              }
            }
            leftToSwift += leftPops + leftPushes
          }
        }
      }
    }
    // The fallback was taken, and only where a lane of its group of 8 needed it: ordinary
    // parameters alone are all done in C.
    #expect(leftToSwift > 0)
    var ordinary = [Float]()
    for _ in 0..<64 {
      for _ in 0..<k { ordinary.append(Float.random(in: -4...4, using: &generator)) }
      for _ in 0..<k { ordinary.append(Float.random(in: -1...1, using: &generator)) }
      for _ in 0..<k { ordinary.append(Float.random(in: -6...1, using: &generator)) }
    }
    let slots = (0..<64).map { _ in UInt32.random(in: 0..<(1 << 24), using: &generator) }
    var out = [MixtureKernel.Interval](repeating: .init(symbol: 0, start: 0, frequency: 0), count: 64)
    for level in Self.levels {
      ordinaryLeft += MixtureKernel.pop(lanes: 64, raw: ordinary, stride: 3 * k, components: k, slots: slots, level: level, into: &out)
    }
    #expect(ordinaryLeft == 0)
  }

  /// More than 4 components are all left to the Swift path.
  @Test func widerMixturesAreLeftToSwift() {
    let raw = [Float](repeating: 0.25, count: 15 * 3)
    var out = [MixtureKernel.Interval](repeating: .init(symbol: 0, start: 0, frequency: 0), count: 3)
    #expect(MixtureKernel.pop(lanes: 3, raw: raw, stride: 15, components: 5, slots: [0, 1, 2], into: &out) == 3)
    #expect(out.allSatisfy { $0.symbol == -1 })
  }

  /// pushLanes and popLanes write and read the message `push` and `pop` write and read lane by
  /// lane: the same heads and tail, the pixels back, the message empty again.
  @Test(arguments: [1, 4, 5])
  func lanesCodeAsOneLaneAtATime(_ k: Int) {
    let head = PixelLikelihood(Architecture(height: 1, width: 1, encoderHidden: [], decoderHidden: [], latentCount: 1,
                                            bucketBits: 4, likelihood: .logisticMixture(components: k)))
    var generator = TestSupport.SeededGenerator(seed: UInt64(60 + k))
    for lanes in [1, 9, 33] {
      let steps = 12, stride = 3 * k
      let raw = Self.parameters(lanes: lanes * steps, components: k, using: &generator)
      let pixels: [UInt8] = (0..<(lanes * steps)).map { _ in
        Bool.random(using: &generator) ? 0 : UInt8.random(in: 0...255, using: &generator)
      }
      // Step s, lane l: raw parameters at (s · lanes + l) · stride, pixel at l · steps + s.
      var batched = ANSMessage(laneCount: lanes), single = ANSMessage(laneCount: lanes)
      raw.withUnsafeBufferPointer { r in
        pixels.withUnsafeBufferPointer { p in
          for s in (0..<steps).reversed() {
            head.pushLanes(0..<lanes, pixels: p.baseAddress! + s, pixelStride: steps,
                           parameters: r.baseAddress! + s * lanes * stride, stride: stride, onto: &batched)
            for l in 0..<lanes {
              head.push(p[l * steps + s], parameters: r.baseAddress! + (s * lanes + l) * stride, onto: &single, lane: l)
            }
          }
        }
        #expect(batched.flattened() == single.flattened())
        var back = [UInt8](repeating: 0, count: lanes * steps)
        back.withUnsafeMutableBufferPointer { b in
          for s in 0..<steps {
            head.popLanes(0..<lanes, parameters: r.baseAddress! + s * lanes * stride, stride: stride, from: &batched,
                          into: b.baseAddress! + s, pixelStride: steps)
          }
        }
        #expect(back == pixels)
      }
      #expect(batched.isEmpty)
    }
  }
}
