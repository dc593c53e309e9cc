// swift-tools-version:6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, whatever the checkout is called.
let bbans = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .lastPathComponent.lowercased()

// The benchmarks live in a package of their own so that the main package's tests (and CI) do not
// build ordo-one/benchmark. Run them from this folder: `swift package benchmark`.
let package = Package(
  name: "bbans-benchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "CoderBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "ANS", package: bbans),
        .product(name: "Codecs", package: bbans),
        .product(name: "PortableMath", package: bbans),
        .product(name: "TestSupport", package: bbans),
      ],
      path: "Benchmarks/CoderBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    .executableTarget(
      name: "ModelBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "Model", package: bbans),
        .product(name: "BitsBack", package: bbans),
        .product(name: "TestSupport", package: bbans),
      ],
      path: "Benchmarks/ModelBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    .executableTarget(
      name: "CompressionBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "BitsBack", package: bbans),
        .product(name: "Model", package: bbans),
        .product(name: "PortableMath", package: bbans),
        .product(name: "TestSupport", package: bbans),
      ],
      path: "Benchmarks/CompressionBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ],
  swiftLanguageModes: [.v5]
)
