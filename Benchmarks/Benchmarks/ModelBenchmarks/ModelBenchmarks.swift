// The networks: the dense-layer kernel in GFLOP/s and VAE inference in images/s.
//
// Run: cd Benchmarks && swift package benchmark --target ModelBenchmarks
// Each iteration is one batch of 32 rows (the coder's lane count); the custom metrics are
// computed from the measured wall clock of that iteration. The table scales them: "FLOP/s (G)"
// reads as GFLOP/s.

import Benchmark
import TestSupport
@_spi(Benchmarks) import BitsBack
@_spi(Benchmarks) import Model

extension SeededGenerator {
  /// A uniform Float in [0, 1) with 24 random bits.
  mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }
}

let batch = 32
let flopsPerSecond = BenchmarkMetric.custom("FLOP/s", polarity: .prefersLarger, useScalingFactor: false)
let imagesPerSecond = BenchmarkMetric.custom("images/s", polarity: .prefersLarger, useScalingFactor: false)

/// Seconds between two instants of the continuous clock.
func seconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// C (32 × columns) = bias + A (32 × inner) · B (inner × columns): the shapes of the layers of
/// the models, with the kernel's version `level` (0 portable SSE2/NEON, 1 AVX2, 2 AVX-512F);
/// through the Float kernel, or with `integer` through the integer kernel (int16 arithmetic:
/// the weights rounded once, outside the measurement; each call rounds A and sums exactly), on
/// the same operands. Multiply-adds count as 2 FLOP either way.
func kernelBenchmark(inner: Int, columns: Int, level: Int, integer: Bool = false) {
  Benchmark("\(integer ? "Integer" : "Dense") kernel level \(level) \(batch)x\(inner) times \(inner)x\(columns)") { benchmark in
    var generator = SeededGenerator(seed: UInt64(inner * 1000 + columns))
    let a = (0..<(batch * inner)).map { _ in generator.nextFloat() - 0.5 }
    let b = (0..<(inner * columns)).map { _ in generator.nextFloat() - 0.5 }
    let bias = (0..<columns).map { _ in generator.nextFloat() - 0.5 }
    var c = [Float](repeating: 0, count: batch * columns)
    let kernel = integer ? b.withUnsafeBufferPointer { IntegerKernel(weights: $0.baseAddress!, inner: inner, columns: columns) } : nil
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    let start = clock.now
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        bias.withUnsafeBufferPointer { sp in
          c.withUnsafeMutableBufferPointer { cp in
            if let kernel {
              kernel.product(rows: batch, a: ap.baseAddress!, start: sp.baseAddress!, c: cp.baseAddress!, level: level)
            } else {
              DenseKernel.matrixProduct(rows: batch, columns: columns, inner: inner, a: ap.baseAddress!, b: bp.baseAddress!,
                                        start: sp.baseAddress!, c: cp.baseAddress!, level: level)
            }
          }
        }
      }
    }
    let elapsed = seconds(clock.now - start)
    benchmark.stopMeasurement()
    blackHole(c[0])
    // A multiply and an add per (row, column, inner) triple.
    benchmark.measurement(flopsPerSecond, Int(2 * Double(batch * inner * columns) / elapsed))
  }
}

/// The context heads' logistic mixture of 4 components, the per-pixel stage after the network:
/// 1,000 pixel steps of 32 lanes, each lane's raw parameters [logits, means, log-scales] drawn
/// so that 4 pixels in 5 are background (means near −1, where C(1) settles the pop), the others
/// anywhere; pops from uniform slots and pushes of the popped values. `kind` is the C version
/// at a kernel level (`MixtureKernel`, what the coder runs), or the Swift codec
/// (`DiscretizedLogisticMixture`, one pixel at a time) for comparison.
func mixtureBenchmark(pop: Bool, level: Int?) {
  let name = level.map { "C level \($0)" } ?? "Swift codec"
  Benchmark("Mixture(4) \(pop ? "pop" : "push") 32 lanes x 1000, \(name)") { benchmark in
    let steps = 1000, lanes = 32, k = 4, stride = 3 * k
    var generator = SeededGenerator(seed: 11)
    var raw = [Float](), slots = [UInt32](), symbols = [UInt8]()
    for _ in 0..<(steps * lanes) {
      let background = generator.nextFloat() < 0.8
      for _ in 0..<k { raw.append(generator.nextFloat() * 6 - 3) }
      for _ in 0..<k { raw.append(background ? -1 + generator.nextFloat() * 0.02 : generator.nextFloat() * 2 - 1) }
      for _ in 0..<k { raw.append(-5 + generator.nextFloat() * 3) }
      slots.append(UInt32(generator.next() >> 40))
    }
    var found = [MixtureKernel.Interval](repeating: .init(symbol: 0, start: 0, frequency: 0), count: steps * lanes)
    for i in 0..<(steps * lanes) {
      found[i] = raw.withUnsafeBufferPointer { MixtureKernel.swiftPop(raw: $0.baseAddress! + i * stride, components: k, slot: slots[i]) }
      symbols.append(UInt8(found[i].symbol))
    }
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    let start = clock.now
    raw.withUnsafeBufferPointer { r in
      found.withUnsafeMutableBufferPointer { f in
        for step in 0..<steps {
          let p = r.baseAddress! + step * lanes * stride, out = f.baseAddress! + step * lanes
          if let level {
            if pop {
              _ = slots.withUnsafeBufferPointer {
                MixtureKernel.pop(lanes: lanes, raw: p, stride: stride, components: k, slots: $0.baseAddress! + step * lanes,
                                  level: level, into: out)
              }
            } else {
              _ = symbols.withUnsafeBufferPointer {
                MixtureKernel.push(lanes: lanes, raw: p, stride: stride, components: k,
                                   symbols: $0.baseAddress! + step * lanes, symbolStride: 1, level: level, into: out)
              }
            }
          } else {
            for l in 0..<lanes {
              out[l] = pop ? MixtureKernel.swiftPop(raw: p + l * stride, components: k, slot: slots[step * lanes + l])
                : MixtureKernel.swiftPush(raw: p + l * stride, components: k, symbol: symbols[step * lanes + l])
            }
          }
        }
      }
    }
    let elapsed = seconds(clock.now - start)
    benchmark.stopMeasurement()
    blackHole(found[0])
    benchmark.measurement(pixelsPerSecond, Int(Double(steps * lanes) / elapsed))
  }
}

/// One batch of 32 images through the encoder (posterior) and the decoder (likelihood
/// parameters at the posterior means).
func inferenceBenchmark(_ name: String, model: VAE) {
  Benchmark("Inference \(name) batch \(batch)") { benchmark in
    let a = model.architecture
    var generator = SeededGenerator(seed: 7)
    let pixels = (0..<(batch * a.pixelCount)).map { _ in
      a.likelihood.isBinary ? UInt8(generator.next() & 1) : UInt8(truncatingIfNeeded: generator.next())
    }
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    let start = clock.now
    let posterior = pixels.withUnsafeBufferPointer { model.posterior(pixels: $0, count: batch) }
    let parameters = posterior.mean.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: batch) }
    let elapsed = seconds(clock.now - start)
    benchmark.stopMeasurement()
    blackHole(parameters[0])
    benchmark.measurement(imagesPerSecond, Int(Double(batch) / elapsed))
  }
}

let rowsPerSecond = BenchmarkMetric.custom("image rows/s", polarity: .prefersLarger, useScalingFactor: false)
let pixelsPerSecond = BenchmarkMetric.custom("pixels/s", polarity: .prefersLarger, useScalingFactor: false)

/// The row summary's two costs when decoding a batch of 32 images (the coder's lanes): the work
/// once per image row (state, global vector, every column's row part: "image rows/s", rows of
/// one image each) and the work per pixel (left part and the rest of the per-pixel network:
/// "pixels/s", pixels of one image each). The features are the decoder's at random latents.
func rowContextBenchmark(_ name: String, model: VAE) {
  Benchmark("Row context \(name) batch \(batch)") { benchmark in
    let a = model.architecture
    var generator = SeededGenerator(seed: 9)
    let pixels = (0..<(batch * a.pixelCount)).map { _ in
      a.likelihood.isBinary ? UInt8(generator.next() & 1) : UInt8(truncatingIfNeeded: generator.next())
    }
    let latents = (0..<(batch * a.latentCount)).map { _ in generator.nextFloat() * 2 - 1 }
    let features = latents.withUnsafeBufferPointer { model.likelihoodParameters(latents: $0, count: batch) }
    benchmark.startMeasurement()
    let timing = RowContextTiming.measure(model: model, lanes: batch, pixels: pixels, features: features)
    benchmark.stopMeasurement()
    blackHole(timing.sink)
    benchmark.measurement(rowsPerSecond, Int(Double(batch * a.height) / timing.rows))
    benchmark.measurement(pixelsPerSecond, Int(Double(batch * a.pixelCount) / timing.pixels))
  }
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput, flopsPerSecond, imagesPerSecond, rowsPerSecond, pixelsPerSecond], timeUnits: .microseconds,
    warmupIterations: 3, maxDuration: .seconds(5), maxIterations: 500)

  // The layers of the models: encoder 784→500, 500→500, 500→100; the plain decoder 50→500,
  // 500→500, 500→1568 (two parameters per pixel); the context decoder's 500→300, 300→3136 (four
  // features per pixel) and its per-pixel network 10→64→9; the row-summary `mnist`'s context
  // network: the row part P 28→128 (2 features, 10 neighbours above, the 16-wide state), the
  // left part 6→128 (2 neighbours, 4 moving averages), the output layer 128→12 padded to 16
  // (the row part runs on 28 × 32 rows at once); the built-in mnist's and fashion-mnist's second
  // hidden layer 128→64 and their output layer after it, 64→16. Every version this CPU runs (the
  // coder uses AVX2 where there is AVX2: see Sources/CDense/dense.c).
  for pop in [true, false] {
    mixtureBenchmark(pop: pop, level: nil)
    for level in 0...DenseKernel.supportedLevel { mixtureBenchmark(pop: pop, level: level) }
  }
  for level in 0...DenseKernel.supportedLevel {
    for (inner, columns) in [(784, 500), (500, 500), (500, 100), (50, 500), (500, 1568), (500, 300), (300, 3136),
                             (10, 64), (64, 9), (28, 128), (6, 128), (128, 16), (128, 64), (64, 16)] {
      kernelBenchmark(inner: inner, columns: columns, level: level)
      kernelBenchmark(inner: inner, columns: columns, level: level, integer: true)
    }
  }

  let architecture = Architecture(
    height: 28, width: 28, encoderHidden: [500, 500], decoderHidden: [500, 500], latentCount: 50, bucketBits: 12,
    likelihood: .betaBinomial)
  inferenceBenchmark("784-500-500-50 beta-binomial random weights", model: VAE(randomWith: architecture, seed: 1))
  var integer = architecture
  integer.arithmetic = .int16
  inferenceBenchmark("784-500-500-50 beta-binomial random weights int16", model: VAE(randomWith: integer, seed: 1))
  for builtin in ModelRegistry.builtins {
    inferenceBenchmark("built-in \(builtin.name)", model: builtin.vae)
    if builtin.architecture.context?.rows != nil { rowContextBenchmark("built-in \(builtin.name)", model: builtin.vae) }
  }
  // The shape of the built-in row-summary models, with random weights (the cost does not depend
  // on the weights).
  for (likelihood, neighbours) in [(Likelihood.bernoulli, 24), (.logisticMixture(components: 4), 12)] {
    let rows = Architecture(
      height: 28, width: 28, encoderHidden: [500, 500], decoderHidden: [500, 500], latentCount: 50, bucketBits: 12,
      likelihood: likelihood, context: ContextHead(features: 2, hidden: 128, neighbourCount: neighbours,
                                                   rows: RowSummary(stateWidth: 16, globalWidth: 16)))
    rowContextBenchmark("\(likelihood.name) \(neighbours) neighbours, S 16, G 16, random weights",
                        model: VAE(randomWith: rows, seed: 2))
  }
}
