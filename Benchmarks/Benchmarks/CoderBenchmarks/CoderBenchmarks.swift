// The rANS coder and the codecs: symbols per second.
//
// Run: cd Benchmarks && swift package benchmark --target CoderBenchmarks
// One iteration codes the whole stream (10M or 1M symbols): symbols/s = count / wall clock.

import ANS
import Benchmark
import TestSupport
import Codecs
import PortableMath


let categoricalSymbolCount = 10_000_000
let gaussianSymbolCount = 1_000_000

/// A fixed 256-symbol categorical (a geometric-like shape, as pixel values have) and a stream of
/// symbols drawn from it.
func categoricalStream() -> (Categorical, [UInt8]) {
  let weights = (0..<256).map { Portable.exp(-Double($0) / 40) + 0.001 }
  let codec = Categorical(probabilities: weights, precisionBits: 16)
  var generator = SeededGenerator(seed: 1)
  let symbols = (0..<categoricalSymbolCount).map { _ in
    UInt8(codec.symbol(at: UInt32.random(in: 0..<(1 << 16), using: &generator)).symbol)
  }
  return (codec, symbols)
}

/// The workload of `scripts/bench-constriction.py`, for a side-by-side run: 256 symbols at 24-bit
/// precision (above the slot table's reach, so pops go through the bucket index), the pmf of a
/// Gaussian (mean 127.5, standard deviation 20) integrated over each symbol's unit interval,
/// plus 1e-6, normalized; and 10M symbols drawn from it.
func gaussian256Stream() -> (Categorical, [UInt8]) {
  let weights = (0..<256).map { i in
    Portable.normalCDF((Double(i + 1) - 127.5) / 20) - Portable.normalCDF((Double(i) - 127.5) / 20) + 1e-6
  }
  let codec = Categorical(probabilities: weights, precisionBits: 24)
  var generator = SeededGenerator(seed: 3)
  let symbols = (0..<categoricalSymbolCount).map { _ in
    UInt8(codec.symbol(at: UInt32.random(in: 0..<(1 << 24), using: &generator)).symbol)
  }
  return (codec, symbols)
}

/// One million discretized Gaussians (each its own μ, σ over 2^12 max-entropy buckets), with a
/// symbol drawn from each.
func gaussianStream() -> ([BucketedGaussian], [Int]) {
  let buckets = MaxEntropyBuckets(bits: 12)
  var generator = SeededGenerator(seed: 2)
  var codecs: [BucketedGaussian] = []
  var symbols: [Int] = []
  codecs.reserveCapacity(gaussianSymbolCount)
  for _ in 0..<gaussianSymbolCount {
    let mean = Double(Int64(bitPattern: generator.next() >> 1) % 4000) / 1000 - 2
    let scale = 0.02 + Double(generator.next() % 1000) / 2000
    let codec = BucketedGaussian(mean: mean, scale: scale, buckets: buckets, precisionBits: 24)
    codecs.append(codec)
    symbols.append(codec.symbol(at: UInt32(truncatingIfNeeded: generator.next()) & 0xFF_FFFF).symbol)
  }
  return (codecs, symbols)
}

// Inputs are built once, on first use, outside the measured region.
let categorical = categoricalStream()
let categoricalMessage: ANSMessage = {
  var message = ANSMessage()
  categorical.1.withUnsafeBufferPointer { categorical.0.push($0, onto: &message) }
  return message
}()
let gaussian256 = gaussian256Stream()
let gaussian256Message: ANSMessage = {
  var message = ANSMessage()
  gaussian256.1.withUnsafeBufferPointer { gaussian256.0.push($0, onto: &message) }
  return message
}()
let gaussians = gaussianStream()
let gaussianMessage: ANSMessage = {
  var message = ANSMessage()
  let (codecs, symbols) = gaussians
  for i in stride(from: symbols.count - 1, through: 0, by: -1) { codecs[i].push(symbols[i], onto: &message) }
  return message
}()

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput, .peakMemoryResident], timeUnits: .milliseconds,
    warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 10)

  Benchmark("Categorical256 push 10M symbols") { benchmark in
    let (codec, symbols) = categorical
    benchmark.startMeasurement()
    var message = ANSMessage()
    symbols.withUnsafeBufferPointer { codec.push($0, onto: &message) }
    benchmark.stopMeasurement()
    blackHole(message.bitCount)
  }

  Benchmark("Categorical256 pop 10M symbols") { benchmark in
    let codec = categorical.0
    var decoded = [UInt8](repeating: 0, count: categoricalSymbolCount)
    var copy = categoricalMessage
    benchmark.startMeasurement()
    decoded.withUnsafeMutableBufferPointer { codec.pop(into: $0, from: &copy) }
    benchmark.stopMeasurement()
    blackHole(decoded[0])
  }

  Benchmark("Gaussian256 (24-bit) push 10M symbols") { benchmark in
    let (codec, symbols) = gaussian256
    benchmark.startMeasurement()
    var message = ANSMessage()
    symbols.withUnsafeBufferPointer { codec.push($0, onto: &message) }
    benchmark.stopMeasurement()
    blackHole(message.bitCount)
  }

  Benchmark("Gaussian256 (24-bit) pop 10M symbols") { benchmark in
    let codec = gaussian256.0
    var decoded = [UInt8](repeating: 0, count: categoricalSymbolCount)
    var copy = gaussian256Message
    benchmark.startMeasurement()
    decoded.withUnsafeMutableBufferPointer { codec.pop(into: $0, from: &copy) }
    benchmark.stopMeasurement()
    // Outside the measurement: a fast pop that decoded wrongly would be no result.
    precondition(decoded == gaussian256.1 && copy.isEmpty, "Gaussian256: the pop did not undo the push")
  }

  Benchmark("BucketedGaussian push 1M symbols") { benchmark in
    let (codecs, symbols) = gaussians
    benchmark.startMeasurement()
    var message = ANSMessage()
    for i in stride(from: symbols.count - 1, through: 0, by: -1) { codecs[i].push(symbols[i], onto: &message) }
    benchmark.stopMeasurement()
    blackHole(message.bitCount)
  }

  Benchmark("BucketedGaussian pop 1M symbols") { benchmark in
    let codecs = gaussians.0
    var copy = gaussianMessage
    var sum = 0
    benchmark.startMeasurement()
    for codec in codecs { sum &+= codec.pop(from: &copy) }
    benchmark.stopMeasurement()
    blackHole(sum)
  }
}
