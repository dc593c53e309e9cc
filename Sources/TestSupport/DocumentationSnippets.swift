import Foundation

/// The Swift code blocks of the documentation (README.md, the DocC articles), for the tests
/// that run the same code: each block's lines, but its `import` lines, must stand in a test
/// source file, in order and contiguous, so that the documentation shows what the tests run.
public enum DocumentationSnippets {
  /// The ```swift blocks of the Markdown file at `path`, each without its `import` lines and
  /// without leading or trailing blank lines.
  public static func swiftBlocks(inFileAt path: String) throws -> [[String]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var blocks: [[String]] = []
    var current: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if current == nil {
        if trimmed == "```swift" { current = [] }
      } else if trimmed == "```" {
        var block = current!.filter { !$0.hasPrefix("import ") }
        while block.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { block.removeFirst() }
        while block.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { block.removeLast() }
        blocks.append(block)
        current = nil
      } else {
        current!.append(line)
      }
    }
    return blocks
  }

  /// Whether `block` stands in `source`, line for line (trailing spaces aside).
  public static func block(_ block: [String], standsIn source: String) -> Bool {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { strip(String($0)) }
    let wanted = block.map(strip)
    guard !wanted.isEmpty, lines.count >= wanted.count else { return wanted.isEmpty }
    return (0...(lines.count - wanted.count)).contains { start in
      wanted.indices.allSatisfy { lines[start + $0] == wanted[$0] }
    }
  }

  private static func strip(_ line: String) -> String {
    var line = line
    while line.last == " " { line.removeLast() }
    return line
  }

  /// The package's root, from a test file's `#filePath` (Tests/TARGET/FILE.swift).
  public static func packageRoot(testFile: String) -> URL {
    URL(fileURLWithPath: testFile).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }
}
