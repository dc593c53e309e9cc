// swift-tools-version:6.1
import PackageDescription

// Module layout: see docs/ and ../shared/DESIGN.md. Dependencies point one way:
// PortableMath, Hashing, Deflate, ANS and Container stand alone; Codecs builds on ANS and
// PortableMath; Model on PortableMath and Hashing; BitsBack on all of them; the CLI on BitsBack.
let package = Package(
  name: "bbans",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "BitsBack", targets: ["BitsBack"]),
    .library(name: "Codecs", targets: ["Codecs"]),
    .library(name: "ANS", targets: ["ANS"]),
    .library(name: "PortableMath", targets: ["PortableMath"]),
    // For Fuzz/ (its own package): the weights file reader and the container's writer.
    .library(name: "Model", targets: ["Model"]),
    .library(name: "Container", targets: ["Container"]),
    // For Benchmarks/ (its own package): the seeded generator the tests use.
    .library(name: "TestSupport", targets: ["TestSupport"]),
    .executable(name: "bbans", targets: ["bbans"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // `swift package generate-documentation --target BitsBack` (and Codecs, ANS): the DocC catalogs.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    .target(name: "PortableMath"),
    .target(name: "Hashing"),
    // Raw deflate exactly as GNU gzip writes it, to rebuild .gz files byte for byte.
    .target(name: "Deflate"),
    .target(name: "ANS"),
    .target(name: "Codecs", dependencies: ["ANS", "PortableMath"]),
    // The dense-layer kernel, in C so that one build holds SSE2, AVX2 and AVX-512 versions.
    .target(name: "CDense"),
    .target(name: "Model", dependencies: ["PortableMath", "Hashing", "CDense"]),
    .target(name: "Container", dependencies: ["Hashing"]),
    // The built-in models' weights, compiled in with #embed (see Sources/BuiltinModels).
    .target(name: "BuiltinModels", exclude: ["weights"]),
    .systemLibrary(
      name: "CZstd", pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(
      name: "CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]),
    .target(
      name: "BitsBack",
      dependencies: ["ANS", "Codecs", "Model", "Container", "PortableMath", "Hashing", "BuiltinModels", "CDense", "CZstd", "CZlib", "Deflate"]),
    .executableTarget(
      name: "bbans",
      dependencies: ["BitsBack", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    // Shared by the test targets: a seeded generator and the codec round-trip contract.
    .target(name: "TestSupport", dependencies: ["ANS", "Codecs"], path: "Sources/TestSupport"),

    .testTarget(name: "PortableMathTests", dependencies: ["PortableMath"]),
    .testTarget(name: "HashingTests", dependencies: ["Hashing"]),
    .testTarget(name: "DeflateTests", dependencies: ["Deflate", "TestSupport"]),
    .testTarget(name: "ANSTests", dependencies: ["ANS", "TestSupport"]),
    .testTarget(name: "CodecsTests", dependencies: ["Codecs", "ANS", "PortableMath", "TestSupport"]),
    .testTarget(name: "ModelTests", dependencies: ["Model", "PortableMath", "TestSupport"]),
    .testTarget(name: "ContainerTests", dependencies: ["Container", "TestSupport"]),
    .testTarget(name: "BitsBackTests", dependencies: ["BitsBack", "ANS", "Codecs", "Model", "Container", "PortableMath", "TestSupport"]),
    .testTarget(name: "bbansTests", dependencies: ["bbans", "BitsBack", "Container", "Model", "TestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
