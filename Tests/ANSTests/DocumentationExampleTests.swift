import ANS
import Foundation
import Testing
import TestSupport

// The example of Sources/ANS/ANS.docc/Intervals.md, as it stands there.

/// The symbol 3 of four equally likely ones (each 2^14 of 2^16), pushed and popped.
func pushPeekAndPop() {
  var message = ANSMessage()
  message.push(start: 3 << 14, frequency: 1 << 14, precisionBits: 16)
  let slot = message.peek(precisionBits: 16)           // the slot selects the symbol to pop
  assert(slot >> 14 == 3)
  message.pop(start: 3 << 14, frequency: 1 << 14, precisionBits: 16)
  assert(message == ANSMessage())                      // back to empty, bit for bit
}

@Suite struct ANSDocumentationExampleTests {
  @Test func theArticlesCodeIsThisFilesCode() throws {
    let root = DocumentationSnippets.packageRoot(testFile: #filePath)
    let source = try String(contentsOfFile: #filePath, encoding: .utf8)
    let blocks = try DocumentationSnippets.swiftBlocks(inFileAt: root.appendingPathComponent("Sources/ANS/ANS.docc/Intervals.md").path)
    #expect(blocks.count == 1)
    for block in blocks { #expect(DocumentationSnippets.block(block, standsIn: source), "\(block.joined(separator: "\n"))") }
  }

  @Test func pushPeekAndPopRuns() {
    pushPeekAndPop()
    // What its asserts say, checked in every build (a release build drops assert).
    var message = ANSMessage()
    message.push(start: 3 << 14, frequency: 1 << 14, precisionBits: 16)
    #expect(message.peek(precisionBits: 16) >> 14 == 3)
    message.pop(start: 3 << 14, frequency: 1 << 14, precisionBits: 16)
    #expect(message == ANSMessage())
  }
}
