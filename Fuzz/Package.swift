// swift-tools-version:6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, whatever the checkout is called.
let bbans = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .lastPathComponent.lowercased()

// The fuzz targets live in a package of their own so that the main package's `swift build` and
// `swift test` never build them (they need `--sanitize=fuzzer`). Run one with
// `scripts/fuzz.sh TARGET SECONDS` from the repository root.
//
// Each target holds only libFuzzer's entry point, LLVMFuzzerTestOneInput; libFuzzer supplies
// `main`. A target traps (and libFuzzer reports a crash) only when the library crashes, or when a
// reader accepts bytes that it cannot give back byte for byte.
let fuzzTargets = ["FuzzContainer", "FuzzChunks", "FuzzIDX", "FuzzNPY", "FuzzPGM", "FuzzWeights", "FuzzWeightValues", "FuzzRoundTrip"]
// Targets that read the library's `package` declarations (its networks and its chunk coder):
// compiled with the main package's name, as SwiftPM compiles the main package's own modules.
let packageTargets: Set = ["FuzzWeightValues"]
// SwiftPM passes the package's identity as a C99 identifier ("h-weights" → "h_weights").
let packageName = String(bbans.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })

let package = Package(
  name: "bbans-fuzz",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: ".."),
  ],
  targets: [
    // What several targets share (the golden models), outside their entry points.
    .target(
      name: "FuzzSupport",
      dependencies: [.product(name: "BitsBack", package: bbans), .product(name: "Model", package: bbans)],
      path: "Sources/FuzzSupport"),
  ] + fuzzTargets.map { name in
    .executableTarget(
      name: name,
      dependencies: [
        "FuzzSupport",
        .product(name: "BitsBack", package: bbans),
        .product(name: "Container", package: bbans),
        .product(name: "Model", package: bbans),
        .product(name: "ANS", package: bbans),
      ],
      path: "Sources/\(name)",
      // SwiftPM's own -package-name (this package's, "fuzz") would come after ours and win.
      packageAccess: !packageTargets.contains(name),
      swiftSettings: [.unsafeFlags(["-parse-as-library"] + (packageTargets.contains(name) ? ["-package-name", packageName] : []))])
  },
  swiftLanguageModes: [.v5]
)
