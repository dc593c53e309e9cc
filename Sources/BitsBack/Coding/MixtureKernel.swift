import CDense
import Codecs
import Model
import PortableMath

/// The C version of the context heads' logistic mixture (CDense's mixture.c, which
/// `PixelLikelihood.pushLanes` and `popLanes` use) beside the Swift codec it must agree with,
/// for the kernel tests and the benchmarks only: reachable through `@_spi(Benchmarks) import
/// BitsBack`, not part of the library's API.
@_spi(Benchmarks)
public enum MixtureKernel {
  /// A pixel value and its interval [start, start + frequency) of 2^24; symbol −1 where the C
  /// version left the pixel to the Swift path.
  public struct Interval: Equatable, Sendable {
    public var symbol: Int
    public var start: UInt32
    public var frequency: UInt32

    public init(symbol: Int, start: UInt32, frequency: UInt32) {
      self.symbol = symbol
      self.start = start
      self.frequency = frequency
    }
  }

  /// The frequencies' precision, the pixel codecs'.
  public static let precisionBits = PixelLikelihood.precisionBits

  static func head(_ components: Int) -> PixelLikelihood {
    PixelLikelihood(Architecture(height: 1, width: 1, encoderHidden: [], decoderHidden: [], latentCount: 1,
                                 bucketBits: 4, likelihood: .logisticMixture(components: components)))
  }

  /// The pixels of `lanes` lanes whose intervals hold their slots, lane i's raw parameters
  /// (3 · components Floats) at raw + i · stride, at a kernel level (nil: the one in use);
  /// returns how many it left to the Swift path.
  @discardableResult
  public static func pop(
    lanes: Int, raw: UnsafePointer<Float>, stride: Int, components: Int, slots: UnsafePointer<UInt32>,
    level: Int? = nil, into result: UnsafeMutablePointer<Interval>
  ) -> Int {
    withUnsafeTemporaryAllocation(of: bbans_interval.self, capacity: max(lanes, 1)) { found in
      let left = bbans_mixture_pop_lanes_at_level(
        Int32(level ?? Int(bbans_dense_level())), Int32(lanes), raw, stride, Int32(components), Int32(precisionBits),
        slots, Portable.expTableAddress, found.baseAddress!)
      for i in 0..<lanes {
        result[i] = Interval(symbol: Int(found[i].symbol), start: found[i].start, frequency: found[i].frequency)
      }
      return Int(left)
    }
  }

  /// The intervals of `lanes` pixel values, lane i's at symbols[i · symbolStride], likewise.
  @discardableResult
  public static func push(
    lanes: Int, raw: UnsafePointer<Float>, stride: Int, components: Int, symbols: UnsafePointer<UInt8>,
    symbolStride: Int, level: Int? = nil, into result: UnsafeMutablePointer<Interval>
  ) -> Int {
    withUnsafeTemporaryAllocation(of: bbans_interval.self, capacity: max(lanes, 1)) { found in
      let left = bbans_mixture_push_lanes_at_level(
        Int32(level ?? Int(bbans_dense_level())), Int32(lanes), raw, stride, Int32(components), Int32(precisionBits),
        symbols, symbolStride, Portable.expTableAddress, found.baseAddress!)
      for i in 0..<lanes {
        result[i] = Interval(symbol: Int(found[i].symbol), start: found[i].start, frequency: found[i].frequency)
      }
      return Int(left)
    }
  }

  /// The Swift codec's pixel for `slot`, from one pixel's raw parameters.
  public static func swiftPop(raw: UnsafePointer<Float>, components: Int, slot: UInt32) -> Interval {
    let found = head(components).logisticMixture(raw, components).symbol(at: slot)
    return Interval(symbol: found.symbol, start: found.start, frequency: found.frequency)
  }

  /// The Swift codec's interval of `symbol`, from one pixel's raw parameters.
  public static func swiftPush(raw: UnsafePointer<Float>, components: Int, symbol: UInt8) -> Interval {
    let found = head(components).logisticMixture(raw, components).interval(of: Int(symbol))
    return Interval(symbol: Int(symbol), start: found.start, frequency: found.frequency)
  }
}
