// End to end through the library API: compress and decompress 1000 28×28 images (an IDX file)
// with a 784-500-500-50 beta-binomial model of random weights, in MB/s of raw pixels (the table
// shows "raw bytes/s (M)"), with the peak resident memory and the number of mallocs.
//
// Run: cd Benchmarks && swift package benchmark --target CompressionBenchmarks
//
// A model of purely random weights codes any image at more than 8 bits/dim, so the compressor
// would fall back to zstd and the benchmark would time zstd. So the random model's decoder output
// layer is set (`withDecoderOutputLayer`, weights scaled by 1/4, a bias per pixel that centres
// each pixel's beta-binomial on a smooth pattern), and the images are drawn from that model
// (z ~ N(0, I), then each pixel from the decoder's beta-binomial): every network still has the
// full architecture and cost, and bits-back beats zstd on the images, which is checked before
// measuring (every chunk must be coded with bits-back and decode to the input).

import Benchmark
import BitsBack
@_spi(Benchmarks) import Model
import PortableMath
import TestSupport

/// cos by its Taylor series after reduction to [−π, π] (no Foundation needed).
func cos(_ x: Double) -> Double {
  var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
  if r > Double.pi { r -= 2 * Double.pi }
  if r < -Double.pi { r += 2 * Double.pi }
  let r2 = r * r
  var term = 1.0, sum = 1.0
  for k in stride(from: 2.0, through: 40.0, by: 2.0) { term *= -r2 / ((k - 1) * k); sum += term }
  return sum
}

let imageCount = 1000
let architecture = Architecture(
  height: 28, width: 28, encoderHidden: [500, 500], decoderHidden: [500, 500], latentCount: 50, bucketBits: 12,
  likelihood: .betaBinomial)
/// Pixel i's beta-binomial centred on a smooth pattern m(i) in [0.1, 0.9] with concentration 40:
/// α = 40 m, β = 40 (1 − m), raw parameters (log α, log β).
let outputBias: [Float] = (0..<784).flatMap { i -> [Float] in
  let y = Double(i / 28), x = Double(i % 28)
  let m = 0.5 + 0.4 * cos(x / 4.5) * cos(y / 6.0)
  return [Float(Portable.log(40 * m)), Float(Portable.log(40 * (1 - m)))]
}
let vae = VAE(randomWith: architecture, seed: 1).withDecoderOutputLayer(weightScale: 0.25, bias: outputBias)
let codingModel = CodingModel(name: "random-784-500-500-50", vae: vae, fileSize: vae.serialized().count)

/// Images drawn from the model: x ~ BetaBinomial(255, α(z), β(z)) with z ~ N(0, I), by the
/// inverse CDF over the 256 values (P(x+1)/P(x) = (n−x)(x+α) / ((x+1)(n−x−1+β))).
func sampledImages() -> [UInt8] {
  var generator = SeededGenerator(seed: 11)
  let p = architecture.pixelCount, l = architecture.latentCount
  let latents = (0..<(imageCount * l)).map { _ in Float(generator.nextGaussian()) }
  let parameters = latents.withUnsafeBufferPointer { vae.likelihoodParameters(latents: $0, count: imageCount) }
  let bound = Likelihood.betaBinomialLogBound
  var pixels = [UInt8](repeating: 0, count: imageCount * p)
  var weights = [Double](repeating: 0, count: 256)
  for i in 0..<(imageCount * p) {
    let alpha = Portable.exp(min(max(Double(parameters[2 * i]), -bound), bound))
    let beta = Portable.exp(min(max(Double(parameters[2 * i + 1]), -bound), bound))
    weights[0] = 1
    var total = 1.0
    for x in 0..<255 {
      let n = 255.0, v = Double(x)
      weights[x + 1] = weights[x] * (n - v) * (v + alpha) / ((v + 1) * (n - v - 1 + beta))
      total += weights[x + 1]
    }
    var u = generator.nextUnit() * total
    var x = 0
    while x < 255 && u >= weights[x] { u -= weights[x]; x += 1 }
    pixels[i] = UInt8(x)
  }
  return pixels
}

/// An IDX file (ubyte, three dimensions) of the images.
func idxFile(_ pixels: [UInt8]) -> [UInt8] {
  func bigEndian(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
  return [0, 0, 8, 3] + bigEndian(imageCount) + bigEndian(28) + bigEndian(28) + pixels
}

let input = idxFile(sampledImages())
let rawPixelBytes = imageCount * architecture.pixelCount

func options(threads: Int, model: CodingModel = codingModel) -> CompressionOptions {
  var options = CompressionOptions()
  options.model = .model(model)
  options.threadCount = threads
  return options
}

/// The container for `threads` threads, checked once: every chunk bits-back, and it decodes.
func compressedChecked(threads: Int, model: CodingModel = codingModel) -> [UInt8] {
  var output: [UInt8] = []
  let report = try! Compressor.compress(input, options: options(threads: threads, model: model), progress: nil) { output.append(contentsOf: $0) }
  let methods = Set(report.chunks.map { String(describing: $0.method) })
  let elbo = input[16...].withUnsafeBufferPointer { model.vae.discretizedNegativeELBO(pixels: $0, count: imageCount, threads: threads) }
  print("CompressionBenchmarks: \(model.name), \(threads) thread(s): \(input.count) bytes -> \(output.count) bytes in \(report.chunks.count) chunk(s) coded with \(methods); discretized -ELBO \(elbo.total) bits/dim; \(report.notes)")
  precondition(methods == ["bits-back"], "CompressionBenchmarks: chunks coded with \(methods), not bits-back only")
  precondition(try! Decompressor.decompress(output, models: [model], threadCount: threads) == input,
               "CompressionBenchmarks: the container does not decode to the input")
  return output
}

// Built once, on first use, before the first measured iteration.
let compressedOneThread = compressedChecked(threads: 1)
let compressedTwoThreads = compressedChecked(threads: 2)

/// The flow posteriors' cost (issue 17): the same model with each flow added as the identity
/// (`addingPosterior`), so the distributions and the rate are the diagonal model's and only the
/// work differs; one thread, the same images. Their containers are built on first use.
let flowPosteriors: [Posterior] = [
  .householder(steps: 4), .iaf(steps: 4, hidden: 200, context: 32), .iaf(steps: 4, hidden: 100, context: 32), .sylvester(steps: 4),
]
let flowModels: [CodingModel] = flowPosteriors.map { posterior in
  let flowModel = vae.addingPosterior(posterior, seed: 5)
  return CodingModel(name: "random-\(posterior.description)", vae: flowModel, fileSize: flowModel.serialized().count)
}
let flowArchives = flowModels.map { compressedChecked(threads: 1, model: $0) }

let rawBytesPerSecond = BenchmarkMetric.custom("raw bytes/s", polarity: .prefersLarger, useScalingFactor: false)

func seconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Times `work` (which gives the output) between the benchmark's start and stop, in raw pixel
/// bytes per second.
func timed(_ benchmark: Benchmark, _ work: () throws -> [UInt8]) rethrows {
  let clock = ContinuousClock()
  benchmark.startMeasurement()
  let start = clock.now
  let output = try work()
  let elapsed = seconds(clock.now - start)
  benchmark.stopMeasurement()
  blackHole(output.count)
  benchmark.measurement(rawBytesPerSecond, Int(Double(rawPixelBytes) / elapsed))
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput, rawBytesPerSecond, .peakMemoryResident, .mallocCountTotal],
    timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 5)

  for (index, posterior) in flowPosteriors.enumerated() {
    let name = posterior.description
    Benchmark("Compress 1000 images 28x28 1 threads \(name)") { benchmark in
      _ = flowArchives[index]
      try timed(benchmark) { try Compressor.compress(input, options: options(threads: 1, model: flowModels[index])) }
    }
    Benchmark("Decompress 1000 images 28x28 1 threads \(name)") { benchmark in
      let compressed = flowArchives[index]
      try timed(benchmark) { try Decompressor.decompress(compressed, models: [flowModels[index]], threadCount: 1) }
    }
  }

  for threads in [1, 2] {
    Benchmark("Compress 1000 images 28x28 \(threads) threads") { benchmark in
      let options = options(threads: threads)
      _ = threads == 1 ? compressedOneThread : compressedTwoThreads
      try timed(benchmark) { try Compressor.compress(input, options: options) }
    }

    Benchmark("Decompress 1000 images 28x28 \(threads) threads") { benchmark in
      let compressed = threads == 1 ? compressedOneThread : compressedTwoThreads
      try timed(benchmark) { try Decompressor.decompress(compressed, models: [codingModel], threadCount: threads) }
    }
  }
}
