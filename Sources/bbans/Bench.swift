import ArgumentParser
import BitsBack
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `bbans bench`: bits/dim and times of bbans against zstd (and xz, bzip2, brotli where
/// installed) on the same files, in one run.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare bbans with zstd (and other compressors found) on files: rates and times.")

  @Argument(help: "The files to measure.")
  var files: [String]

  @Option(name: .long, help: "A built-in model's name or a weights file's path (default: chosen from the data).")
  var model: String?

  @Flag(name: .long, help: "Print JSON instead of a table.")
  var json = false

  @Option(name: .long, help: "Also draw the bits/dim of each compressor per file as an SVG bar chart.")
  var svg: String?

  @Option(name: .long, help: "Threads for bbans (default: the number of cores).")
  var threads: Int?

  @Flag(name: .long, help: "Also run xz -9e, bzip2 -9 and brotli -q 11 where installed (slow: brotli alone takes longer than the rest).")
  var external = false

  func validate() throws {
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
  }

  func run() throws {
    var results: [FileResult] = []
    var failed = false
    for file in files {
      do {
        results.append(try measure(file))
      } catch {
        writeStandardError("bbans: error: \(file): \(error)\n")
        failed = true
      }
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
    } else {
      for result in results { print(result.table()) }
    }
    if let svg {
      try reportingErrors {
        let output = try OutputFile(path: svg, force: true)
        try output.write(Array(BarChart(results).svg().utf8))
        try output.commit()
      }
    }
    if failed { throw ExitCode.failure }
  }

  func measure(_ file: String) throws -> FileResult {
    let input = try readInput(file)
    var options = CompressionOptions()
    options.threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
    var models: [CodingModel] = []
    if let model {
      let chosen = try ModelRegistry.model(namedOrPath: model)
      options.model = .model(chosen)
      models.append(chosen)
    }
    var result = FileResult(file: file, bytes: input.count)
    // bbans first, so that its peak memory is not the other compressors'; the peak is reset
    // first, so that it is not an earlier file's either.
    resetPeakMemory()
    var start = Date()
    var container: [UInt8] = []
    let report = try Compressor.compress(input, options: options) { container.append(contentsOf: $0) }
    let compressSeconds = Date().timeIntervalSince(start)
    start = Date()
    let back = try Decompressor.decompress(container, models: models, threadCount: options.threadCount)
    let decompressSeconds = Date().timeIntervalSince(start)
    result.pixels = report.pixelCount
    let unit = Double(report.pixelCount > 0 ? report.pixelCount : input.count)
    result.unit = report.pixelCount > 0 ? "bits/dim" : "bits/byte"
    var bbans = Row(name: "bbans", bytes: container.count, rate: Double(container.count * 8) / unit,
                    compressSeconds: compressSeconds, decompressSeconds: decompressSeconds)
    bbans.model = report.modelName
    bbans.initialBits = report.initialBits
    bbans.netRate = Double(container.count * 8 - report.initialBits) / unit
    bbans.roundTrip = back == input
    bbans.peakMemoryMB = peakMemoryMB()
    if let (_, elbo) = try Compressor.modelRate(input, options: options) { bbans.negativeELBO = elbo.total }
    result.rows.append(bbans)
    for level in [1, 3, 19, 22] {
      start = Date()
      let compressed = try Zstd.compress(input, level: level)
      let c = Date().timeIntervalSince(start)
      start = Date()
      let restored = try Zstd.decompress(compressed, expectedSize: input.count)
      var row = Row(name: "zstd -\(level)", bytes: compressed.count, rate: Double(compressed.count * 8) / unit,
                    compressSeconds: c, decompressSeconds: Date().timeIntervalSince(start))
      row.roundTrip = restored == input
      result.rows.append(row)
    }
    for tool in [("xz", ["-9e"]), ("bzip2", ["-9"]), ("brotli", ["-q", "11"])] where external {
      if let row = try externalRow(tool.0, tool.1, input: input, unit: unit) { result.rows.append(row) }
    }
    return result
  }

  /// A compressor found on PATH, run on the same bytes through pipes (marked "(external)").
  func externalRow(_ tool: String, _ arguments: [String], input: [UInt8], unit: Double) throws -> Row? {
    guard let path = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map({ $0 + tool })
      .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    func pipe(_ arguments: [String], _ data: [UInt8]) throws -> (Data, Double) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: path)
      process.arguments = arguments
      let input = Pipe(), output = Pipe()
      process.standardInput = input
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      let start = Date()
      try process.run()
      let writer = Thread { input.fileHandleForWriting.write(Data(data)); try? input.fileHandleForWriting.close() }
      writer.start()
      let out = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (out, Date().timeIntervalSince(start))
    }
    let (compressed, c) = try pipe(arguments + ["-c"], input)
    let (restored, d) = try pipe(["-d", "-c"], [UInt8](compressed))
    var row = Row(name: "\(tool) \(arguments.joined(separator: " ")) (external)", bytes: compressed.count,
                  rate: Double(compressed.count * 8) / unit, compressSeconds: c, decompressSeconds: d)
    row.roundTrip = [UInt8](restored) == input
    return row
  }

  /// Resets the kernel's record of this process's peak resident memory (Linux: writing 5 to
  /// /proc/self/clear_refs); elsewhere the peak stays the process's since it started.
  func resetPeakMemory() {
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
      handle.write(Data("5".utf8))
      try? handle.close()
    }
  }

  /// The peak resident memory since `resetPeakMemory` (VmHWM), or since the process started.
  func peakMemoryMB() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") {
      return kilobytes / 1024
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }

}

/// One compressor on one file.
struct Row: Codable {
  var name: String
  var bytes: Int
  /// Bits of the whole output per pixel (or per byte for data without images).
  var rate: Double
  var compressSeconds: Double
  var decompressSeconds: Double
  var roundTrip: Bool = false
  var model: String? = nil
  var netRate: Double? = nil
  var initialBits: Int? = nil
  var negativeELBO: Double? = nil
  var peakMemoryMB: Double? = nil
}

struct FileResult: Codable {
  var file: String
  var bytes: Int
  var pixels: Int = 0
  var unit: String = "bits/dim"
  var rows: [Row] = []

  func table() -> String {
    func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
    var lines = ["\(file): \(bytes) bytes" + (pixels > 0 ? ", \(pixels) pixels" : "")]
    lines.append("  compressor                   bytes  \(unit.padding(toLength: 9, withPad: " ", startingAt: 0))  compress s  decompress s  round trip")
    for row in rows {
      lines.append(
        "  " + row.name.padding(toLength: 24, withPad: " ", startingAt: 0)
          + String(row.bytes).leftPadded(11) + f(row.rate).leftPadded(11)
          + f(row.compressSeconds, 3).leftPadded(12) + f(row.decompressSeconds, 3).leftPadded(14)
          + (row.roundTrip ? "ok" : "FAILED").leftPadded(12))
    }
    if let b = rows.first, b.name == "bbans" {
      var extra = "  bbans: model \(b.model ?? "none (zstd)")"
      if let net = b.netRate { extra += ", net \(f(net)) \(unit)" }
      if let initial = b.initialBits { extra += ", initial bits \(initial)" }
      if let elbo = b.negativeELBO { extra += ", model −ELBO \(f(elbo)) bits/dim" }
      if let memory = b.peakMemoryMB { extra += ", peak memory \(f(memory, 0)) MB" }
      lines.append(extra)
    }
    return lines.joined(separator: "\n")
  }
}

extension String {
  func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// A hand-written SVG bar chart: one group per file, one bar per compressor.
struct BarChart {
  let results: [FileResult]
  init(_ results: [FileResult]) { self.results = results }

  func svg() -> String {
    let names = results.first?.rows.map(\.name) ?? []
    let barWidth = 18.0, gap = 30.0, height = 260.0, top = 30.0, left = 50.0
    let groupWidth = Double(names.count) * barWidth + gap
    // Wide enough for the bars, and for the title and the legend's four columns.
    let width = max(left + Double(results.count) * groupWidth + 20, left + 4 * 170 + 20)
    let maximum = max(results.flatMap { $0.rows.map(\.rate) }.max() ?? 1, 0.001)
    let colours = ["#1b7837", "#762a83", "#9970ab", "#c2a5cf", "#e7d4e8", "#5aae61", "#a6dba0", "#d9f0d3"]
    var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + top + 90))\" font-family=\"sans-serif\" font-size=\"11\">"]
    parts.append("<text x=\"\(left)\" y=\"18\" font-size=\"13\">bits/dim (whole output file), lower is better</text>")
    parts.append("<line x1=\"\(left)\" y1=\"\(top + height)\" x2=\"\(width - 10)\" y2=\"\(top + height)\" stroke=\"black\"/>")
    for (g, result) in results.enumerated() {
      let x0 = left + Double(g) * groupWidth
      for (i, row) in result.rows.enumerated() {
        let h = row.rate / maximum * height
        let x = x0 + Double(i) * barWidth
        parts.append("<rect x=\"\(x)\" y=\"\(top + height - h)\" width=\"\(barWidth - 2)\" height=\"\(h)\" fill=\"\(colours[i % colours.count])\"><title>\(row.name): \(String(format: "%.3f", row.rate))</title></rect>")
        parts.append("<text x=\"\(x + 2)\" y=\"\(top + height - h - 3)\" font-size=\"8\">\(String(format: "%.2f", row.rate))</text>")
      }
      let label = URL(fileURLWithPath: result.file).lastPathComponent
      parts.append("<text x=\"\(x0)\" y=\"\(top + height + 15)\">\(label)</text>")
    }
    for (i, name) in names.enumerated() {
      let y = top + height + 35 + Double(i / 4) * 14
      let x = left + Double(i % 4) * 170
      parts.append("<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"10\" height=\"10\" fill=\"\(colours[i % colours.count])\"/><text x=\"\(x + 14)\" y=\"\(y)\">\(name)</text>")
    }
    parts.append("</svg>")
    return parts.joined(separator: "\n")
  }
}
