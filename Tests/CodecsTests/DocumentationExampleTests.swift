import ANS
import Codecs
import Foundation
import Testing
import TestSupport

// The example of Sources/Codecs/Codecs.docc/PushAndPop.md and of the README, as it stands there.

/// Two symbols onto an empty message and back: a stack, last in, first out.
func pushAndPop() {
  let codec = Categorical(probabilities: [0.5, 0.25, 0.25], precisionBits: 16)
  var message = ANSMessage()
  codec.push(2, onto: &message)
  codec.push(0, onto: &message)
  assert(codec.pop(from: &message) == 0)   // a stack: last in, first out
  assert(codec.pop(from: &message) == 2)
  assert(message == ANSMessage())          // back to empty, bit for bit
}

@Suite struct CodecsDocumentationExampleTests {
  @Test func theArticlesCodeIsThisFilesCode() throws {
    let root = DocumentationSnippets.packageRoot(testFile: #filePath)
    let source = try String(contentsOfFile: #filePath, encoding: .utf8)
    let blocks = try DocumentationSnippets.swiftBlocks(inFileAt: root.appendingPathComponent("Sources/Codecs/Codecs.docc/PushAndPop.md").path)
    #expect(blocks.count == 1)
    for block in blocks { #expect(DocumentationSnippets.block(block, standsIn: source), "\(block.joined(separator: "\n"))") }
  }

  @Test func pushAndPopRuns() {
    pushAndPop()
    // What its asserts say, checked in every build (a release build drops assert).
    let codec = Categorical(probabilities: [0.5, 0.25, 0.25], precisionBits: 16)
    var message = ANSMessage()
    codec.push(2, onto: &message)
    codec.push(0, onto: &message)
    #expect(codec.pop(from: &message) == 0)
    #expect(codec.pop(from: &message) == 2)
    #expect(message == ANSMessage())
  }
}
