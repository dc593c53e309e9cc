/// One Huffman code of a block (literal/length, distance or code-length), built the way gzip's
/// `build_tree` builds it, because every choice shows in the output: which symbols tie, how the
/// heap breaks ties, and how over-long codes are cut back.
///
/// Nodes `0..<elements` are the symbols; `elements...` are the internal nodes the construction
/// creates. `frequency` of the symbols is counted by the block's tally.
struct HuffmanTree {
  /// Number of symbols.
  let elements: Int
  /// Longest code allowed (15, or 7 for the code-length code).
  let maxLength: Int
  /// Extra bits of symbol `extraBase + i` is `extraBits[i]`; they count in the block's cost.
  let extraBits: UnsafeMutablePointer<UInt8>
  let extraBase: Int
  let extraCount: Int
  /// The block-type-1 code lengths of the same alphabet, for the static cost; nil for the
  /// code-length code.
  let staticLengths: UnsafeMutablePointer<UInt8>?

  /// Per node: the count of the symbol, or the sum of its two children.
  let frequency: UnsafeMutablePointer<UInt32>
  /// Per node: its parent during construction.
  let parent: UnsafeMutablePointer<Int16>
  /// Per node: the code length (of internal nodes: their depth, clamped at `maxLength`).
  let length: UnsafeMutablePointer<UInt8>
  /// Per symbol: the code, bit-reversed for sending.
  let code: UnsafeMutablePointer<UInt16>
  /// Largest symbol with a code (after the construction forced at least two).
  var maxCode = -1

  init(elements: Int, maxLength: Int, extraBits: [UInt8], extraBase: Int, staticLengths: UnsafeMutablePointer<UInt8>?) {
    self.elements = elements
    self.maxLength = maxLength
    self.extraBits = .allocate(capacity: extraBits.count)
    self.extraBits.initialize(from: extraBits, count: extraBits.count)
    self.extraBase = extraBase
    self.extraCount = extraBits.count
    self.staticLengths = staticLengths
    let nodes = 2 * elements + 1
    frequency = .allocate(capacity: nodes)
    frequency.initialize(repeating: 0, count: nodes)
    parent = .allocate(capacity: nodes)
    parent.initialize(repeating: 0, count: nodes)
    length = .allocate(capacity: nodes)
    length.initialize(repeating: 0, count: nodes)
    code = .allocate(capacity: elements)
    code.initialize(repeating: 0, count: elements)
  }

  func deallocate() {
    extraBits.deallocate()
    frequency.deallocate()
    parent.deallocate()
    length.deallocate()
    code.deallocate()
  }

  /// Zeroes the symbol counts for a new block.
  func resetFrequencies() {
    frequency.update(repeating: 0, count: elements)
  }
}

/// The scratch that gzip shares between its three trees: the heap, the depth used to break ties
/// between subtrees of equal frequency, and the count of codes per length.
struct HuffmanBuilder {
  /// gzip's `HEAP_SIZE` (2 · 286 + 1), used for every tree: the sorted nodes fill the heap
  /// array from its top end, whatever the tree.
  static let heapSize = 2 * DeflateFormat.literalLengthCodes + 1

  let heap: UnsafeMutablePointer<Int>
  let depth: UnsafeMutablePointer<UInt8>
  let lengthCount: UnsafeMutablePointer<Int>
  var heapLength = 0
  var heapMax = 0

  init() {
    heap = .allocate(capacity: Self.heapSize)
    heap.initialize(repeating: 0, count: Self.heapSize)
    depth = .allocate(capacity: Self.heapSize)
    depth.initialize(repeating: 0, count: Self.heapSize)
    lengthCount = .allocate(capacity: DeflateFormat.maxBits + 1)
    lengthCount.initialize(repeating: 0, count: DeflateFormat.maxBits + 1)
  }

  func deallocate() {
    heap.deallocate()
    depth.deallocate()
    lengthCount.deallocate()
  }

  /// Whether node `n` sorts before node `m`: smaller frequency, or equal frequency and no
  /// deeper (gzip's `smaller`; the depth rule keeps the tree shallow).
  @inline(__always)
  private func smaller(_ tree: HuffmanTree, _ n: Int, _ m: Int) -> Bool {
    let fn = tree.frequency[n], fm = tree.frequency[m]
    return fn < fm || (fn == fm && depth[n] <= depth[m])
  }

  /// Moves `heap[k]` down until both its children sort after it (gzip's `pqdownheap`).
  private func siftDown(_ tree: HuffmanTree, _ start: Int) {
    var k = start
    let v = heap[k]
    var j = k << 1
    while j <= heapLength {
      if j < heapLength && smaller(tree, heap[j + 1], heap[j]) { j += 1 }
      if smaller(tree, v, heap[j]) { break }
      heap[k] = heap[j]
      k = j
      j <<= 1
    }
    heap[k] = v
  }

  /// Builds the code of `tree` from its symbol counts: sets the lengths and codes of every
  /// symbol and `maxCode`, and adds the cost of the block's symbols (codes and extra bits) to
  /// `optimalBits` and, with the static lengths, to `staticBits` (gzip's `build_tree`).
  ///
  /// A code needs two symbols at least, so while fewer are used gzip adds one with a count of
  /// 1: the symbol after the largest used while the largest is below 2, else symbol 0; and it
  /// takes back 1 bit from the dynamic cost and the symbol's static length from the static one.
  /// That quirk is kept, since the costs choose the block type.
  mutating func build(_ tree: inout HuffmanTree, optimalBits: inout Int, staticBits: inout Int) {
    var maxCode = -1
    var node = tree.elements
    heapLength = 0
    heapMax = Self.heapSize
    for n in 0..<tree.elements {
      if tree.frequency[n] != 0 {
        heapLength += 1
        heap[heapLength] = n
        maxCode = n
        depth[n] = 0
      } else {
        tree.length[n] = 0
      }
    }
    while heapLength < 2 {
      let forced: Int
      if maxCode < 2 {
        maxCode += 1
        forced = maxCode
      } else {
        forced = 0
      }
      heapLength += 1
      heap[heapLength] = forced
      tree.frequency[forced] = 1
      depth[forced] = 0
      optimalBits -= 1
      if let staticLengths = tree.staticLengths { staticBits -= Int(staticLengths[forced]) }
    }
    tree.maxCode = maxCode

    var n = heapLength / 2
    while n >= 1 {
      siftDown(tree, n)
      n -= 1
    }
    // Join the two least frequent nodes until one is left, keeping the removed nodes in
    // heap[heapMax...] in the order they left (least frequent at the top).
    repeat {
      let least = heap[1]
      heap[1] = heap[heapLength]
      heapLength -= 1
      siftDown(tree, 1)
      let next = heap[1]
      heapMax -= 1
      heap[heapMax] = least
      heapMax -= 1
      heap[heapMax] = next
      tree.frequency[node] = tree.frequency[least] &+ tree.frequency[next]
      depth[node] = max(depth[least], depth[next]) + 1
      tree.parent[least] = Int16(node)
      tree.parent[next] = Int16(node)
      heap[1] = node
      node += 1
      siftDown(tree, 1)
    } while heapLength >= 2
    heapMax -= 1
    heap[heapMax] = heap[1]

    assignLengths(&tree, optimalBits: &optimalBits, staticBits: &staticBits)
    canonicalCodes(lengths: tree.length, count: maxCode + 1, codes: tree.code)
  }

  /// Sets each node's length to its parent's plus one, clamped at `maxLength`, and when any
  /// was clamped, redistributes the lengths as gzip's `gen_bitlen` does: per overflowing pair,
  /// one leaf of the deepest non-full level below the maximum moves down a level, then the
  /// lengths are dealt out again, longest first, to the symbols from the least frequent.
  private mutating func assignLengths(_ tree: inout HuffmanTree, optimalBits: inout Int, staticBits: inout Int) {
    let maxLength = tree.maxLength
    let maxCode = tree.maxCode
    for bits in 0...DeflateFormat.maxBits { lengthCount[bits] = 0 }
    var overflow = 0
    tree.length[heap[heapMax]] = 0
    var h = heapMax + 1
    while h < Self.heapSize {
      let n = heap[h]
      h += 1
      var bits = Int(tree.length[Int(tree.parent[n])]) + 1
      if bits > maxLength {
        bits = maxLength
        overflow += 1
      }
      tree.length[n] = UInt8(bits)
      if n > maxCode { continue }
      lengthCount[bits] += 1
      var extra = 0
      let e = n - tree.extraBase
      if e >= 0 && e < tree.extraCount { extra = Int(tree.extraBits[e]) }
      let f = Int(tree.frequency[n])
      optimalBits += f * (bits + extra)
      if let staticLengths = tree.staticLengths { staticBits += f * (Int(staticLengths[n]) + extra) }
    }
    if overflow == 0 { return }

    repeat {
      var bits = maxLength - 1
      while lengthCount[bits] == 0 { bits -= 1 }
      lengthCount[bits] -= 1
      lengthCount[bits + 1] += 2
      lengthCount[maxLength] -= 1
      overflow -= 2
    } while overflow > 0

    h = Self.heapSize
    var bits = maxLength
    while bits != 0 {
      var n = lengthCount[bits]
      while n != 0 {
        h -= 1
        let m = heap[h]
        if m > maxCode { continue }
        if Int(tree.length[m]) != bits {
          optimalBits += (bits - Int(tree.length[m])) * Int(tree.frequency[m])
          tree.length[m] = UInt8(bits)
        }
        n -= 1
      }
      bits -= 1
    }
  }
}
