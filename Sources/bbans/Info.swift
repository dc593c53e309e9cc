import ArgumentParser
import BitsBack
import Container
import Foundation

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Describe a .bba file: model, shape, and its chunks with their methods and rates.")

  @Argument(help: "The .bba file.")
  var file: String

  func run() throws {
    try reportingErrors {
      let summary = try ContainerReader.inspect(source: try FileByteSource(path: file))
      let header = summary.header
      let pixelsPerImage = Int(header.height) * Int(header.width) * Int(header.channels)
      var lines: [String] = []
      lines.append("file:        \(file) (\(summary.fileSize) bytes, format \(header.version))")
      lines.append("original:    \(header.originalSize) bytes, checksum \(hex(summary.trailer.originalChecksum))")
      if header.modelName.isEmpty {
        lines.append("model:       none (zstd)")
      } else {
        lines.append("model:       \(header.modelName) (hash \(hex(header.modelHash)))")
        lines.append("shape:       \(header.itemCount) images of \(header.height)×\(header.width)×\(header.channels)")
        let pixels = Double(header.itemCount) * Double(pixelsPerImage)
        if pixels > 0 {
          let total = Double(summary.fileSize) * 8 / pixels
          let initial = summary.chunks.reduce(0) { $0 + Int($1.initialBits) }
          lines.append("rate:        \(format(total)) bits/dim in all; initial bits \(initial) (\(format(Double(initial) / pixels)) bits/dim)")
        }
      }
      lines.append("chunks:      \(summary.chunks.count)")
      lines.append("  #  method     images  lanes   raw bytes  payload bytes  bits/dim  initial bits  checksum")
      for record in summary.chunks {
        let pixels = record.itemCount > 0 ? Double(record.rawSize) : Double(record.rawSize)
        let rate = pixels > 0 ? format(Double(record.payloadSize) * 8 / pixels) : "-"
        lines.append(
          pad(String(record.index), 3) + "  " + padRight(record.method.description, 9)
            + pad(String(record.itemCount), 8) + pad(String(record.laneCount), 7)
            + pad(String(record.rawSize), 12) + pad(String(record.payloadSize), 15)
            + pad(rate, 10) + pad(String(record.initialBits), 14) + "  " + hex(record.rawChecksum))
      }
      print(lines.joined(separator: "\n"))
    }
  }

  func format(_ value: Double) -> String { String(format: "%.4f", value) }
  func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
  func padRight(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
  func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
  }
}
