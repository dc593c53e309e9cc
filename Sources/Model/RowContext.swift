import CDense
import PortableMath

/// The two layers of a row summary (`RowSummary`): the recurrent state layer (2k + 1 + 3S → S)
/// and the global layer (W·S → G), each followed by ReLU.
package struct RowNetworks: Equatable, Sendable {
  package var state: DenseLayer
  package var global: DenseLayer

  package init(state: DenseLayer, global: DenseLayer) {
    self.state = state
    self.global = global
  }

  /// In file order: state, then global.
  package var layers: [DenseLayer] { [state, global] }
}

/// The arithmetic of a context head with a row summary (`RowSummary`), shared by training
/// (teacher forcing, every pixel known), evaluation, encoding and decoding (`RowContextStepper`,
/// one pixel at a time), so that all of them compute every value the same way:
///
/// - the state input of row y, column x: [v(y−1, x−k) … v(y−1, x+k), s_{y−1}[x−1], s_{y−1}[x],
///   s_{y−1}[x+1]] (0 outside the image, and for y = 0);
/// - the pixel's row part [f, above neighbours, s_y[x], g_y] and left part [left neighbours, e_x];
/// - the first layer as ReLU(((b + g_y·W_g) + P) + left·W_left), P = [f, above, s_y[x]]·W_rest:
///   the global vector's share once per image and row, the rest of the row part once per pixel,
///   the left part once per pixel, then the sums.
///
/// The dense kernel gives each row of a product the same bits whatever the number of rows in
/// the call, so a row computed for one lane or for a batch of images is the same.
package struct RowContextPlan: Sendable {
  package let height: Int
  package let width: Int
  package let features: Int
  package let stateWidth: Int
  package let globalWidth: Int
  package let radius: Int
  package let averages: Int
  package let above: [(dy: Int, dx: Int)]
  package let left: [(dy: Int, dx: Int)]
  package let rowInputs: Int
  package let leftInputs: Int
  package let stateInputs: Int
  package let hidden: Int
  package let decays: [Float]
  package let oneMinusDecays: [Float]
  /// The network's input for a pixel value: v/255 (8-bit) or 0/1 (binary).
  package let valueTable: [Float]
  /// Per pixel, where each of its left neighbours is in the image (−1: outside, input 0).
  let leftSources: [Int32]
  /// The stepper's value rows (`fillValueRows`): the `valueRowDepth` rows above the current one
  /// as network inputs, each `valueRowPad` zeros, the row, `valueRowPad` zeros, so that every
  /// above neighbour and every state input is one load at a fixed offset from its column.
  package let valueRowDepth: Int
  package let valueRowPad: Int
  package var valueRowWidth: Int { width + 2 * valueRowPad }
  /// Above neighbour j of column x at (value rows of the lane, past the pad) + x + aboveOffsets[j].
  let aboveOffsets: [Int]

  package init(_ architecture: Architecture) {
    guard let head = architecture.context, let summary = head.rows else {
      preconditionFailure("RowContextPlan: the architecture has no row summary")
    }
    height = architecture.height
    width = architecture.width
    features = head.features
    stateWidth = summary.stateWidth
    globalWidth = summary.globalWidth
    radius = summary.radius
    averages = summary.averages
    above = head.aboveNeighbours
    left = head.leftNeighbours
    rowInputs = summary.rowInputCount(head)
    leftInputs = summary.leftInputCount(head)
    stateInputs = summary.stateInputCount
    hidden = head.hidden
    decays = summary.decays
    oneMinusDecays = decays.map { 1 - $0 }
    valueTable = (0...255).map { v in architecture.likelihood.isBinary ? (v != 0 ? 1 : 0) : Float(v) / 255 }
    let (w, hh) = (architecture.width, architecture.height)
    func sources(_ offsets: [(dy: Int, dx: Int)]) -> [Int32] {
      (0..<(w * hh)).flatMap { i in
        offsets.map { o in
          let ny = i / w + o.dy, nx = i % w + o.dx
          return ny >= 0 && nx >= 0 && nx < w ? Int32(ny * w + nx) : -1
        }
      }
    }
    leftSources = sources(left)
    valueRowDepth = max(1, above.map { -$0.dy }.max() ?? 1)
    valueRowPad = max(radius, above.map { abs($0.dx) }.max() ?? 0)
    let paddedWidth = w + 2 * valueRowPad
    aboveOffsets = above.map { (-$0.dy - 1) * paddedWidth + $0.dx }
  }

  package var pixelCount: Int { height * width }
  package var inputCount: Int { rowInputs + leftInputs }

  /// The value rows of row y for `rows` images: image r's rows y − 1, …, y − valueRowDepth as
  /// network inputs (v/255 or 0/1; 0 above the image) at
  /// into + ((r · valueRowDepth + d − 1) · valueRowWidth + valueRowPad). The pads are not written:
  /// they must be 0 (the stepper zeroes its buffer once).
  @inline(__always)
  package func fillValueRows(
    row y: Int, rows: Int, pixels: UnsafePointer<UInt8>, pixelStride: Int, values: UnsafePointer<Float>,
    into out: UnsafeMutablePointer<Float>
  ) {
    let w = width, depth = valueRowDepth, pw = valueRowWidth
    for r in 0..<rows {
      for d in 1...depth {
        let target = out + (r * depth + d - 1) * pw + valueRowPad
        if y - d < 0 {
          target.update(repeating: 0, count: w)
        } else {
          let source = pixels + r * pixelStride + (y - d) * w
          var x = 0
          while x < w {
            target[x] = values[Int(source[x])]
            x &+= 1
          }
        }
      }
    }
  }

  /// The state inputs of row y for `rows` images (rows × width × stateInputs, image-major), from
  /// their value rows (`fillValueRows` of the same row y).
  /// - Parameters:
  ///   - previous: s_{y−1} of image r, column x at previous + (r · width + x) · stateWidth
  ///     (not read for y = 0).
  @inline(__always)
  package func fillStateInputs(
    row y: Int, rows: Int, valueRows: UnsafePointer<Float>, previous: UnsafePointer<Float>,
    into out: UnsafeMutablePointer<Float>
  ) {
    let w = width, s = stateWidth, k = radius, n = stateInputs
    out.initialize(repeating: 0, count: rows * w * n)
    guard y > 0 else { return }
    for r in 0..<rows {
      // Row y − 1, past its pad: columns −pad ..< w + pad are readable, 0 outside the image.
      let above = valueRows + r * valueRowDepth * valueRowWidth + valueRowPad
      let state = previous + r * w * s
      for x in 0..<w {
        let row = out + (r * w + x) * n
        Self.copy(2 * k + 1, from: above + (x - k), to: row)
        for c in 0..<3 where x + c - 1 >= 0 && x + c - 1 < w {
          Self.copy(s, from: state + (x + c - 1) * s, to: row + 2 * k + 1 + c * s)
        }
      }
    }
  }

  /// The row part of pixel (y, x) of one image, [f, above neighbours, s_y[x], g_y], from the
  /// image's value rows of row y (`fillValueRows`; `valueRows` is its first row past its pad);
  /// without g_y when `global` is nil (the stepper adds g_y's share once per row instead).
  /// - Parameters:
  ///   - features: the pixel's decoder features.
  @inline(__always)
  package func fillRowPart(
    x: Int, features: UnsafePointer<Float>, valueRows: UnsafePointer<Float>, state: UnsafePointer<Float>,
    global: UnsafePointer<Float>?, into row: UnsafeMutablePointer<Float>
  ) {
    for j in 0..<self.features { row[j] = features[j] }
    let n = above.count
    aboveOffsets.withUnsafeBufferPointer { offsets in
      let to = row + self.features, from = valueRows + x
      var j = 0
      while j < n {
        to[j] = from[offsets[j]]
        j &+= 1
      }
    }
    Self.copy(stateWidth, from: state, to: row + self.features + n)
    if let global { Self.copy(globalWidth, from: global, to: row + self.features + n + stateWidth) }
  }

  /// s = ReLU(b + input · A) for `count` rows of state inputs.
  @inline(__always)
  package func stateLayer(_ layer: DenseLayer, input: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    product(layer, input: input, rows: count, into: out)
    Dense.relu(out, count: count * stateWidth)
  }

  /// g = ReLU(c + [s[0], …, s[W−1]] · G) for `count` images' states of one row.
  @inline(__always)
  package func globalLayer(_ layer: DenseLayer, states: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    guard globalWidth > 0 else { return }
    product(layer, input: states, rows: count, into: out)
    Dense.relu(out, count: count * globalWidth)
  }

  @inline(__always)
  func product(_ layer: DenseLayer, input: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
    layer.weights.withUnsafeBufferPointer { w in
      layer.bias.withUnsafeBufferPointer { b in
        Dense.matrixProduct(rows: rows, columns: layer.outCount, inner: layer.inCount, a: input, aRowStride: layer.inCount,
          aInnerStride: 1, b: w.baseAddress!, bRowStride: layer.outCount, start: b.baseAddress!, c: out, cRowStride: layer.outCount)
      }
    }
  }

  /// count Floats from `from` to `to` (not overlapping): a loop without overflow checks, which
  /// the compiler vectorizes (a memmove call costs more at these sizes).
  @inline(__always)
  static func copy(_ count: Int, from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>) {
    var j = 0
    while j < count {
      to[j] = from[j]
      j &+= 1
    }
  }

  /// The left part of pixel (y, x) of one image: [left neighbours, e_x].
  @inline(__always)
  package func fillLeftPart(
    y: Int, x: Int, image: UnsafePointer<UInt8>, averages e: UnsafePointer<Float>, values: UnsafePointer<Float>,
    into row: UnsafeMutablePointer<Float>
  ) {
    let n = left.count
    leftSources.withUnsafeBufferPointer { sources in
      let from = sources.baseAddress! + (y * width + x) * n
      for j in 0..<n {
        let source = Int(from[j])
        row[j] = source >= 0 ? values[Int(image[source])] : 0
      }
    }
    for j in 0..<averages { row[n + j] = e[j] }
  }

  /// e ← a · e + (1 − a) · v, the moving averages moved past one value.
  @inline(__always)
  package func advance(_ e: UnsafeMutablePointer<Float>, past v: Float) {
    for j in 0..<averages { e[j] = decays[j] * e[j] + oneMinusDecays[j] * v }
  }

  /// The first layer: hidden = ReLU(accumulators + left·W_left) for `rows` inputs, where the
  /// accumulators are c_y + P: either summed already, or P with c_y added here (the same sum,
  /// (c_y + P) + left·W_left, without a pass over every column's P to add c_y first).
  /// - Parameters:
  ///   - rowAccumulators: c_y + P (see `RowContextStepper`), or P when `rowStarts` is given;
  ///     row q at q · rowAccumulatorStride.
  ///   - rowStarts: c_y for rows q ..< q + rowsPerStart at (q / rowsPerStart) · hidden.
  ///   - scratch: rows × hidden Floats.
  @inline(__always)
  package func finishFirstLayer(
    _ layer: DenseLayer, rows: Int, left: UnsafePointer<Float>, leftStride: Int,
    rowAccumulators: UnsafePointer<Float>, rowAccumulatorStride: Int,
    rowStarts: UnsafePointer<Float>? = nil, rowsPerStart: Int = 1,
    scratch: UnsafeMutablePointer<Float>, into hiddenValues: UnsafeMutablePointer<Float>, hiddenStride: Int
  ) {
    let h = hidden
    layer.weights.withUnsafeBufferPointer { w in
      Dense.matrixProduct(rows: rows, columns: h, inner: leftInputs, a: left, aRowStride: leftStride, aInnerStride: 1,
        b: w.baseAddress! + rowInputs * h, bRowStride: h, start: nil, c: scratch, cRowStride: h)
    }
    // ReLU((c_y + P) + left·W_left) element by element, in C at the kernel's vector width.
    bbans_first_layer_finish(rows, h, rowAccumulators, rowAccumulatorStride, rowStarts, rowsPerStart, scratch,
                             hiddenValues, hiddenStride)
  }
}

/// A teacher-forced pass of a row-summary context head over `count` images whose pixels are all
/// known, keeping what the backward pass needs.
package struct RowContextPass {
  package let plan: RowContextPlan
  package let count: Int
  /// Per row y, the state inputs of every image and column: ((y · count + r) · W + x) · stateInputs.
  package var stateInputs: [Float]
  /// s_y, same order: ((y · count + r) · W + x) · S.
  package var states: [Float]
  /// g_y: (y · count + r) · G.
  package var globals: [Float]
  /// The per-pixel network's activations, as `MLP.forwardKeepingActivations` gives them:
  /// [0] the inputs [row part, left part] of pixel (r, i) at (r · P + i) · inputCount, then each
  /// layer's output; the last holds the likelihood's raw parameters.
  package var activations: [[Float]]

  /// - Parameters:
  ///   - features: the decoder's outputs, count × P × F.
  ///   - pixels: count × P values.
  package init(
    plan: RowContextPlan, context: MLP, rows networks: RowNetworks, features: [Float], pixels: UnsafeBufferPointer<UInt8>,
    count: Int
  ) {
    self.plan = plan
    self.count = count
    let h = plan.height, w = plan.width, p = plan.pixelCount, s = plan.stateWidth, g = plan.globalWidth
    let n = plan.stateInputs, d = plan.inputCount
    precondition(features.count == count * p * plan.features && pixels.count >= count * p,
                 "RowContextPass: \(features.count) features and \(pixels.count) pixels for \(count) images")
    var stateInputs = [Float](repeating: 0, count: h * count * w * n)
    var states = [Float](repeating: 0, count: h * count * w * s)
    var globals = [Float](repeating: 0, count: h * count * g)
    var input = [Float](repeating: 0, count: count * p * d)
    // Every image's value rows of the current row (pads 0), as the stepper keeps them.
    let laneValueRows = plan.valueRowDepth * plan.valueRowWidth
    var valueRows = [Float](repeating: 0, count: max(count, 1) * laneValueRows)
    stateInputs.withUnsafeMutableBufferPointer { xs in
      states.withUnsafeMutableBufferPointer { ss in
        globals.withUnsafeMutableBufferPointer { gs in
          for y in 0..<h {
            let x = xs.baseAddress! + y * count * w * n, st = ss.baseAddress! + y * count * w * s
            valueRows.withUnsafeMutableBufferPointer { vr in
              plan.valueTable.withUnsafeBufferPointer { values in
                plan.fillValueRows(row: y, rows: count, pixels: pixels.baseAddress!, pixelStride: p,
                                   values: values.baseAddress!, into: vr.baseAddress!)
              }
              plan.fillStateInputs(
                row: y, rows: count, valueRows: UnsafePointer(vr.baseAddress!),
                previous: UnsafePointer(ss.baseAddress! + max(y - 1, 0) * count * w * s), into: x)
            }
            plan.stateLayer(networks.state, input: x, count: count * w, into: st)
            plan.globalLayer(networks.global, states: st, count: count, into: gs.baseAddress! + y * count * g)
          }
        }
      }
    }
    // The per-pixel inputs.
    let e = UnsafeMutablePointer<Float>.allocate(capacity: max(plan.averages, 1))
    defer { e.deallocate() }
    input.withUnsafeMutableBufferPointer { inputs in
      features.withUnsafeBufferPointer { f in
        states.withUnsafeBufferPointer { ss in
          globals.withUnsafeBufferPointer { gs in
            plan.valueTable.withUnsafeBufferPointer { values in
              valueRows.withUnsafeMutableBufferPointer { vr in
                let imageRows = vr.baseAddress!, pastPad = UnsafePointer(imageRows) + plan.valueRowPad
                for r in 0..<count {
                  let image = pixels.baseAddress! + r * p
                  for y in 0..<h {
                    plan.fillValueRows(row: y, rows: 1, pixels: image, pixelStride: p, values: values.baseAddress!,
                                       into: imageRows)
                    e.initialize(repeating: 0, count: plan.averages)
                    for x in 0..<w {
                      if x > 0 { plan.advance(e, past: values[Int(image[y * w + x - 1])]) }
                      let row = inputs.baseAddress! + (r * p + y * w + x) * d
                      plan.fillRowPart(
                        x: x, features: f.baseAddress! + (r * p + y * w + x) * plan.features, valueRows: pastPad,
                        state: ss.baseAddress! + ((y * count + r) * w + x) * s, global: gs.baseAddress! + (y * count + r) * g,
                        into: row)
                      plan.fillLeftPart(y: y, x: x, image: image, averages: e, values: values.baseAddress!,
                                        into: row + plan.rowInputs)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    self.stateInputs = stateInputs
    self.states = states
    self.globals = globals
    // The per-pixel network: the first layer in two products, then the others.
    let rows = count * p, hidden = plan.hidden
    var first = [Float](repeating: 0, count: rows * hidden)
    var accumulators = [Float](repeating: 0, count: rows * hidden)
    var scratch = [Float](repeating: 0, count: rows * hidden)
    // As the coder computes it (`RowContextStepper`): c_y = b + g_y·W_g per image and row, then
    // (c_y + P) with P = [f, above, s]·W_rest per pixel.
    let rest = plan.rowInputs - g, layer = context.layers[0]
    var rowStarts = [Float](repeating: 0, count: h * count * hidden)
    layer.weights.withUnsafeBufferPointer { wt in
      layer.bias.withUnsafeBufferPointer { b in
        globals.withUnsafeBufferPointer { gs in
          rowStarts.withUnsafeMutableBufferPointer { c in
            Dense.matrixProduct(rows: h * count, columns: hidden, inner: g, a: gs.baseAddress!, aRowStride: max(g, 1),
              aInnerStride: 1, b: wt.baseAddress! + rest * hidden, bRowStride: hidden, start: b.baseAddress!,
              c: c.baseAddress!, cRowStride: hidden)
          }
        }
      }
    }
    input.withUnsafeBufferPointer { x in
      accumulators.withUnsafeMutableBufferPointer { a in
        layer.weights.withUnsafeBufferPointer { wt in
          Dense.matrixProduct(rows: rows, columns: hidden, inner: rest, a: x.baseAddress!, aRowStride: d, aInnerStride: 1,
            b: wt.baseAddress!, bRowStride: hidden, start: nil, c: a.baseAddress!, cRowStride: hidden)
        }
        for r in 0..<count {
          for y in 0..<h {
            let c = (y * count + r) * hidden
            for x in 0..<w {
              let q = (r * p + y * w + x) * hidden
              for j in 0..<hidden { a[q + j] = rowStarts[c + j] + a[q + j] }
            }
          }
        }
        scratch.withUnsafeMutableBufferPointer { t in
          first.withUnsafeMutableBufferPointer { o in
            plan.finishFirstLayer(
              context.layers[0], rows: rows, left: x.baseAddress! + plan.rowInputs, leftStride: d,
              rowAccumulators: a.baseAddress!, rowAccumulatorStride: hidden, scratch: t.baseAddress!,
              into: o.baseAddress!, hiddenStride: hidden)
          }
        }
      }
    }
    accumulators = []
    scratch = []
    var activations = [input, first]
    for (i, layer) in context.layers.enumerated().dropFirst() {
      activations.append(layer.apply(activations[i], rows: rows, relu: i < context.layers.count - 1))
    }
    self.activations = activations
  }

  /// The likelihood's raw parameters of every pixel: count × P × parametersPerPixel.
  package var output: [Float] { activations[activations.count - 1] }

  /// The gradients of the per-pixel network and of the row summary's layers, and ∂L/∂features
  /// (count × P × F), from ∂L/∂parameters. Sums run in a fixed order.
  package func backward(
    context: MLP, rows networks: RowNetworks, contextTransposed: [[Float]], outputGradient: [Float]
  ) -> (context: MLP, rows: RowNetworks, features: [Float]) {
    let h = plan.height, w = plan.width, p = plan.pixelCount, s = plan.stateWidth, g = plan.globalWidth
    let n = plan.stateInputs, d = plan.inputCount, f = plan.features
    let (contextGradient, dInput) = context.backward(
      activations: activations, outputGradient: outputGradient, rows: count * p,
      transposedWeights: contextTransposed, wantInputGradient: true)
    var dFeatures = [Float](repeating: 0, count: count * p * f)
    // ∂L/∂s_y[x] from the pixels (row part), and ∂L/∂g_y summed over the row's columns.
    var dStates = [Float](repeating: 0, count: h * count * w * s)
    var dGlobals = [Float](repeating: 0, count: h * count * g)
    let sOffset = f + plan.above.count, gOffset = sOffset + s
    for r in 0..<count {
      for y in 0..<h {
        let dg = (y * count + r) * g
        for x in 0..<w {
          let q = r * p + y * w + x
          let row = q * d
          for j in 0..<f { dFeatures[q * f + j] = dInput[row + j] }
          let ds = ((y * count + r) * w + x) * s
          for j in 0..<s { dStates[ds + j] = dInput[row + sOffset + j] }
          for j in 0..<g { dGlobals[dg + j] = dGlobals[dg + j] + dInput[row + gOffset + j] }
        }
      }
    }
    // The global layer, every row at once (it does not feed the recurrence).
    var globalGradient = networks.global.zeros()
    if g > 0 {
      for i in dGlobals.indices where !(globals[i] > 0) { dGlobals[i] = 0 }
      let dFlat = Self.layerBackward(
        networks.global, input: states, output: dGlobals, rows: h * count, into: &globalGradient)
      for i in dStates.indices { dStates[i] = dStates[i] + dFlat[i] }
    }
    // The recurrence, last row first: ∂L/∂s_{y−1} gets the state part of ∂L/∂(state input of y).
    var dPre = [Float](repeating: 0, count: h * count * w * s)
    var transposed = [Float](repeating: 0, count: networks.state.weights.count)
    networks.state.weights.withUnsafeBufferPointer { wt in
      transposed.withUnsafeMutableBufferPointer { Dense.transpose(wt.baseAddress!, rows: n, columns: s, into: $0.baseAddress!) }
    }
    var dX = [Float](repeating: 0, count: count * w * n)
    for y in stride(from: h - 1, through: 0, by: -1) {
      let base = y * count * w * s
      for i in 0..<(count * w * s) {
        dPre[base + i] = states[base + i] > 0 ? dStates[base + i] : 0
      }
      guard y > 0 else { break }
      dPre.withUnsafeBufferPointer { dp in
        transposed.withUnsafeBufferPointer { wt in
          dX.withUnsafeMutableBufferPointer { o in
            Dense.matrixProduct(rows: count * w, columns: n, inner: s, a: dp.baseAddress! + base, aRowStride: s,
              aInnerStride: 1, b: wt.baseAddress!, bRowStride: n, start: nil, c: o.baseAddress!, cRowStride: n)
          }
        }
      }
      let previous = (y - 1) * count * w * s
      for r in 0..<count {
        for x in 0..<w {
          let row = (r * w + x) * n + 2 * plan.radius + 1
          for c in 0..<3 where x + c - 1 >= 0 && x + c - 1 < w {
            let target = previous + (r * w + x + c - 1) * s
            for j in 0..<s { dStates[target + j] = dStates[target + j] + dX[row + c * s + j] }
          }
        }
      }
    }
    var stateGradient = networks.state.zeros()
    _ = Self.layerBackward(networks.state, input: stateInputs, output: dPre, rows: h * count * w, into: &stateGradient,
                           wantInput: false)
    return (contextGradient, RowNetworks(state: stateGradient, global: globalGradient), dFeatures)
  }

  /// A dense layer's weight and bias gradients from ∂L/∂(pre-activation), and ∂L/∂input.
  static func layerBackward(
    _ layer: DenseLayer, input: [Float], output dy: [Float], rows: Int, into gradient: inout DenseLayer, wantInput: Bool = true
  ) -> [Float] {
    let mlp = MLP(layers: [layer])
    let (g, dx) = mlp.backward(
      activations: [input, []], outputGradient: dy, rows: rows,
      transposedWeights: wantInput ? mlp.transposedWeights() : [[]], wantInputGradient: wantInput)
    gradient = g.layers[0]
    return dx
  }
}

/// The row-summary context head as the coder runs it, over several images in lock-step, row by
/// row in raster order. At the start of each row it updates the state and the global vector from
/// the row just finished and computes every column's row part through the first layer in one
/// product; then either each pixel needs only its left part (`pixelPart`, decoding, where pixels
/// come one at a time) or, when every pixel is known, the whole row's left parts go through the
/// network at once (`wholeRow`, encoding and evaluation). Both compute every value the same way,
/// so they give the same bits (the dense kernel's rows do not depend on the rows in a call).
///
/// The first layer is computed as ((c_y + P) + left·W_left) with c_y = b + g_y·W_g, once per
/// image and row, and P = [f, above neighbours, s_y[x]]·W_rest, once per pixel (W_rest, W_g and
/// W_left are the first layer's rows for those inputs): the global vector is the same for every
/// column of a row, so its share is computed once per row. docs/MODEL_FORMAT.md fixes this order.
package final class RowContextStepper {
  let plan: RowContextPlan
  let network: MLP
  let rows: RowNetworks
  let capacity: Int
  let outputCount: Int
  /// The distance between two outputs in `pixelPart`'s and `wholeRow`'s results.
  package let outputStride: Int
  private let outputWeights: [Float]
  private let outputBias: [Float]
  /// Inputs of W_rest: features, above neighbours, state.
  private let restInputs: Int
  private let stateInput: UnsafeMutablePointer<Float>
  private var state: UnsafeMutablePointer<Float>
  private var previousState: UnsafeMutablePointer<Float>
  private let global: UnsafeMutablePointer<Float>
  private let rowStart: UnsafeMutablePointer<Float>
  private let rowInput: UnsafeMutablePointer<Float>
  private let rowAccumulators: UnsafeMutablePointer<Float>
  private let leftInput: UnsafeMutablePointer<Float>
  private let averages: UnsafeMutablePointer<Float>
  /// `RowContextPlan.fillValueRows`'s rows, pads zeroed once.
  private let valueRows: UnsafeMutablePointer<Float>
  private let scratch: UnsafeMutablePointer<Float>
  private let hiddenA: UnsafeMutablePointer<Float>
  private let hiddenB: UnsafeMutablePointer<Float>
  private let output: UnsafeMutablePointer<Float>
  private var nextPixel = 0
  private var laneCount = 0

  package init(model: VAE, rows lanes: Int) {
    guard let network = model.context, let rowNetworks = model.rows else {
      preconditionFailure("RowContextStepper: the model \(model.name) has no row summary")
    }
    plan = RowContextPlan(model.architecture)
    self.network = network
    rows = rowNetworks
    capacity = max(lanes, 1)
    outputCount = model.architecture.parametersPerPixel
    let padded = network.layers[network.layers.count - 1].paddedToTiles()
    outputStride = padded.outCount
    outputWeights = padded.weights
    outputBias = padded.bias
    restInputs = plan.rowInputs - plan.globalWidth
    let w = plan.width, cells = capacity * plan.width
    stateInput = .allocate(capacity: cells * plan.stateInputs)
    state = .allocate(capacity: cells * plan.stateWidth)
    previousState = .allocate(capacity: cells * plan.stateWidth)
    global = .allocate(capacity: capacity * max(plan.globalWidth, 1))
    rowStart = .allocate(capacity: capacity * plan.hidden)
    rowInput = .allocate(capacity: cells * plan.rowInputs)
    rowAccumulators = .allocate(capacity: cells * plan.hidden)
    leftInput = .allocate(capacity: cells * max(plan.leftInputs, 1))
    averages = .allocate(capacity: capacity * max(plan.averages, 1))
    let valueRowCount = capacity * plan.valueRowDepth * plan.valueRowWidth
    valueRows = .allocate(capacity: valueRowCount)
    valueRows.initialize(repeating: 0, count: valueRowCount)
    scratch = .allocate(capacity: cells * plan.hidden)
    hiddenA = .allocate(capacity: cells * network.maxWidth)
    hiddenB = .allocate(capacity: cells * network.maxWidth)
    output = .allocate(capacity: capacity * w * outputStride)
  }

  deinit {
    for p in [stateInput, state, previousState, global, rowStart, rowInput, rowAccumulators, leftInput, averages, valueRows,
              scratch, hiddenA, hiddenB, output] { p.deallocate() }
  }

  /// The raw parameters of pixel i for images 0..<rows: `outputCount` values for image r at
  /// r · `outputStride`. Pixels must be asked for in raster order from 0, with the same rows
  /// (a call for pixel 0 starts over).
  /// - Parameters:
  ///   - features: image r's decoder outputs at features + r · featureStride.
  ///   - pixels: image r's pixels at pixels + r · pixelStride (those before i are read).
  package func parameters(
    pixel i: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int,
    pixels: UnsafePointer<UInt8>, pixelStride: Int
  ) -> UnsafePointer<Float> {
    if i % plan.width == 0 {
      startRow(pixel: i, rows: rows, features: features, featureStride: featureStride, pixels: pixels,
               pixelStride: pixelStride)
    }
    return pixelPart(pixel: i, rows: rows, pixels: pixels, pixelStride: pixelStride)
  }

  /// The work once per row, at its first pixel i: the state and global vector from the row
  /// before, and every column's row part through the first layer.
  package func startRow(
    pixel i: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int,
    pixels: UnsafePointer<UInt8>, pixelStride: Int
  ) {
    precondition(rows <= capacity, "RowContextStepper: \(rows) rows exceed the capacity \(capacity)")
    if i == 0 {
      nextPixel = 0
      laneCount = rows
    }
    precondition(i == nextPixel && rows == laneCount && i % plan.width == 0,
                 "RowContextStepper: row of pixel \(i) asked for out of order")
    plan.valueTable.withUnsafeBufferPointer { values in
      beginRow(i / plan.width, rows: rows, features: features, featureStride: featureStride, pixels: pixels,
               pixelStride: pixelStride, values: values.baseAddress!)
    }
  }

  /// The work per pixel, once its row has started: the left part and the rest of the network.
  package func pixelPart(pixel i: Int, rows: Int, pixels: UnsafePointer<UInt8>, pixelStride: Int) -> UnsafePointer<Float> {
    precondition(i == nextPixel && rows == laneCount, "RowContextStepper: pixel \(i) asked for out of order")
    nextPixel += 1
    let w = plan.width, y = i / w, x = i % w, h1 = plan.hidden
    plan.valueTable.withUnsafeBufferPointer { values in
      for r in 0..<rows {
        let image = pixels + r * pixelStride
        let e = averages + r * plan.averages
        if x > 0 { plan.advance(e, past: values[Int(image[y * w + x - 1])]) }
        plan.fillLeftPart(y: y, x: x, image: image, averages: e, values: values.baseAddress!,
                          into: leftInput + r * plan.leftInputs)
      }
    }
    plan.finishFirstLayer(
      network.layers[0], rows: rows, left: leftInput, leftStride: plan.leftInputs,
      rowAccumulators: rowAccumulators + x * h1, rowAccumulatorStride: w * h1, rowStarts: rowStart, scratch: scratch,
      into: hiddenA, hiddenStride: h1)
    return rest(rows: rows)
  }

  /// Every pixel of row y when all are known, after `startRow`: `outputCount` values for
  /// image r, column x at (r · width + x) · `outputStride`.
  package func wholeRow(_ y: Int, rows: Int, pixels: UnsafePointer<UInt8>, pixelStride: Int) -> UnsafePointer<Float> {
    let w = plan.width
    precondition(nextPixel == y * w && rows == laneCount, "RowContextStepper: row \(y) asked for out of order")
    nextPixel += w
    plan.valueTable.withUnsafeBufferPointer { values in
      for r in 0..<rows {
        let image = pixels + r * pixelStride
        let e = averages + r * plan.averages
        for x in 0..<w {
          if x > 0 { plan.advance(e, past: values[Int(image[y * w + x - 1])]) }
          plan.fillLeftPart(y: y, x: x, image: image, averages: e, values: values.baseAddress!,
                            into: leftInput + (r * w + x) * plan.leftInputs)
        }
      }
    }
    plan.finishFirstLayer(
      network.layers[0], rows: rows * w, left: leftInput, leftStride: plan.leftInputs,
      rowAccumulators: rowAccumulators, rowAccumulatorStride: plan.hidden, rowStarts: rowStart, rowsPerStart: w,
      scratch: scratch,
      into: hiddenA, hiddenStride: plan.hidden)
    return rest(rows: rows * w)
  }

  /// Every pixel's raw parameters of `rows` images whose pixels are all known, row by row with
  /// `startRow` and `wholeRow`: image r's pixel i at into + (r · pixelCount + i) · outputCount.
  package func allPixels(
    rows: Int, features: UnsafePointer<Float>, featureStride: Int, pixels: UnsafePointer<UInt8>, pixelStride: Int,
    into result: UnsafeMutablePointer<Float>
  ) {
    let w = plan.width, p = plan.pixelCount, k = outputCount, stride = outputStride
    for y in 0..<plan.height {
      startRow(pixel: y * w, rows: rows, features: features, featureStride: featureStride, pixels: pixels,
               pixelStride: pixelStride)
      let values = wholeRow(y, rows: rows, pixels: pixels, pixelStride: pixelStride)
      for r in 0..<rows {
        for x in 0..<w {
          let source = values + (r * w + x) * stride, target = result + (r * p + y * w + x) * k
          for j in 0..<k { target[j] = source[j] }
        }
      }
    }
  }

  /// The layers after the first, from `hiddenA`, for `count` rows: the output at `output`.
  private func rest(rows count: Int) -> UnsafePointer<Float> {
    var current = hiddenA, next = hiddenB
    for layer in network.layers.dropFirst().dropLast() {
      layer.weights.withUnsafeBufferPointer { wt in
        layer.bias.withUnsafeBufferPointer { b in
          Dense.matrixProduct(rows: count, columns: layer.outCount, inner: layer.inCount, a: current,
            aRowStride: layer.inCount, aInnerStride: 1, b: wt.baseAddress!, bRowStride: layer.outCount,
            start: b.baseAddress!, c: next, cRowStride: layer.outCount)
        }
      }
      Dense.relu(next, count: count * layer.outCount)
      swap(&current, &next)
    }
    let inner = network.layers[network.layers.count - 1].inCount
    outputWeights.withUnsafeBufferPointer { wt in
      outputBias.withUnsafeBufferPointer { b in
        Dense.matrixProduct(rows: count, columns: outputStride, inner: inner, a: current, aRowStride: inner,
          aInnerStride: 1, b: wt.baseAddress!, bRowStride: outputStride, start: b.baseAddress!, c: output,
          cRowStride: outputStride)
      }
    }
    return UnsafePointer(output)
  }

  /// Row y's state and global vector from row y − 1, and every column's P and c_y.
  private func beginRow(
    _ y: Int, rows: Int, features: UnsafePointer<Float>, featureStride: Int, pixels: UnsafePointer<UInt8>,
    pixelStride: Int, values: UnsafePointer<Float>
  ) {
    let w = plan.width, h1 = plan.hidden, g = plan.globalWidth
    swap(&state, &previousState)
    plan.fillValueRows(row: y, rows: rows, pixels: pixels, pixelStride: pixelStride, values: values, into: valueRows)
    plan.fillStateInputs(row: y, rows: rows, valueRows: UnsafePointer(valueRows), previous: UnsafePointer(previousState),
                         into: stateInput)
    plan.stateLayer(self.rows.state, input: stateInput, count: rows * w, into: state)
    plan.globalLayer(self.rows.global, states: state, count: rows, into: global)
    let first = network.layers[0]
    // c_y = b + g_y·W_g per image.
    first.weights.withUnsafeBufferPointer { wt in
      first.bias.withUnsafeBufferPointer { b in
        Dense.matrixProduct(rows: rows, columns: h1, inner: g, a: global, aRowStride: max(g, 1), aInnerStride: 1,
          b: wt.baseAddress! + restInputs * h1, bRowStride: h1, start: b.baseAddress!, c: rowStart, cRowStride: h1)
      }
    }
    let f = plan.features
    for r in 0..<rows {
      let laneRows = UnsafePointer(valueRows) + r * plan.valueRowDepth * plan.valueRowWidth + plan.valueRowPad
      for x in 0..<w {
        plan.fillRowPart(
          x: x, features: features + r * featureStride + (y * w + x) * f, valueRows: laneRows,
          state: state + (r * w + x) * plan.stateWidth, global: nil, into: rowInput + (r * w + x) * restInputs)
      }
      averages.advanced(by: r * plan.averages).initialize(repeating: 0, count: plan.averages)
    }
    // P for every column (c_y is added to it pixel by pixel, in `finishFirstLayer`).
    first.weights.withUnsafeBufferPointer { wt in
      Dense.matrixProduct(rows: rows * w, columns: h1, inner: restInputs, a: rowInput, aRowStride: restInputs,
        aInnerStride: 1, b: wt.baseAddress!, bRowStride: h1, start: nil, c: rowAccumulators, cRowStride: h1)
    }
  }
}

extension VAE {
  /// This model with `summary` added to its context head, computing the same distributions (up
  /// to the rounding of the first layer's two products): the first layer's rows for the state,
  /// the global vector and the moving averages are 0, the neighbours' rows move to where the new
  /// input order puts them, deeper layers as wide as the first are the identity (ReLU of a
  /// non-negative input) and other deeper layers are random; the row summary's layers are
  /// random (from `seed`). The starting point of training a row summary from a trained model.
  public func addingRowSummary(_ summary: RowSummary, seed: UInt64) -> VAE {
    guard let head = architecture.context, head.rows == nil, let context, context.layers.count == 2 else {
      preconditionFailure("VAE.addingRowSummary: \(name) has no context head of one hidden layer without a row summary")
    }
    var upgraded = architecture
    upgraded.context?.rows = summary
    precondition(upgraded.problem == nil, "VAE.addingRowSummary: \(upgraded.problem ?? "")")
    let newHead = upgraded.context!
    let h = head.hidden, inputs = newHead.inputCount
    let rowInputs = summary.rowInputCount(newHead)
    // Where each old input goes: features first, then each neighbour to its part.
    var target = Array(0..<head.features)
    var aboveRank = 0, leftRank = 0
    for offset in head.neighbours {
      if offset.dy < 0 {
        target.append(head.features + aboveRank)
        aboveRank += 1
      } else {
        target.append(rowInputs + leftRank)
        leftRank += 1
      }
    }
    let old = context.layers[0]
    var weights = [Float](repeating: 0, count: inputs * h)
    for (t, row) in target.enumerated() {
      for j in 0..<h { weights[row * h + j] = old.weights[t * h + j] }
    }
    var layers = [DenseLayer(inCount: inputs, outCount: h, weights: weights, bias: old.bias)]
    var generator = SeededGenerator(seed: seed)
    var width = h
    for next in summary.deeper {
      if next == width {
        var identity = [Float](repeating: 0, count: width * width)
        for j in 0..<width { identity[j * width + j] = 1 }
        layers.append(DenseLayer(inCount: width, outCount: width, weights: identity, bias: [Float](repeating: 0, count: width)))
      } else {
        layers.append(MLP(sizes: [width, next, 1], generator: &generator).layers[0])
      }
      width = next
    }
    let last = context.layers[1]
    layers.append(width == h ? last : MLP(sizes: [width, last.outCount], generator: &generator).layers[0])
    let state = MLP(sizes: upgraded.rowStateSizes + [1], generator: &generator).layers[0]
    let global = MLP(sizes: upgraded.rowGlobalSizes + [1], generator: &generator).layers[0]
    return VAE(architecture: upgraded, name: name, summary: self.summary, figures: figures, encoder: encoder,
               decoder: decoder, context: MLP(layers: layers), rows: RowNetworks(state: state, global: global))
  }

  /// This model with the context network's first hidden layer widened to `width` units,
  /// computing the same distributions: the new units' input weights are random (from `seed`),
  /// their biases 0, and the next layer's weights from them 0. The starting point of training
  /// a wider per-pixel network into a trained row-summary model.
  public func addingHiddenUnits(width: Int, seed: UInt64) -> VAE {
    guard let head = architecture.context, head.rows != nil, let context, width > head.hidden else {
      preconditionFailure("VAE.addingHiddenUnits: \(name) has no row-summary context head narrower than \(width)")
    }
    var upgraded = architecture
    upgraded.context?.hidden = width
    precondition(upgraded.problem == nil, "VAE.addingHiddenUnits: \(upgraded.problem ?? "")")
    let first = context.layers[0], next = context.layers[1]
    let n = first.inCount, h = head.hidden, extra = width - h, m = next.outCount
    var generator = SeededGenerator(seed: seed)
    let fresh = MLP(sizes: [n, extra, 1], generator: &generator).layers[0]
    var weights = [Float](repeating: 0, count: n * width)
    for t in 0..<n {
      for j in 0..<h { weights[t * width + j] = first.weights[t * h + j] }
      for j in 0..<extra { weights[t * width + h + j] = fresh.weights[t * extra + j] }
    }
    var layers = context.layers
    layers[0] = DenseLayer(inCount: n, outCount: width, weights: weights, bias: first.bias + [Float](repeating: 0, count: extra))
    layers[1] = DenseLayer(inCount: width, outCount: m, weights: next.weights + [Float](repeating: 0, count: extra * m), bias: next.bias)
    return VAE(architecture: upgraded, name: name, summary: summary, figures: figures, encoder: encoder,
               decoder: decoder, context: MLP(layers: layers), rows: self.rows, flows: flows)
  }

  /// This model with the context network's deeper layers extended to `deeper`, computing the
  /// same distributions: the model's own deeper layers must begin `deeper`. Layers added as wide
  /// as the one before them start as the identity (ReLU of a non-negative input, bias 0), and
  /// leave every distribution the same bit for bit. One layer added of another width w ≥ 2P
  /// (P the output layer's width) starts as the output layer's product split in two, its first
  /// P units v = Wᵀh and the next P units −v (no bias), the rest random with outgoing weights 0,
  /// and the new output layer takes ReLU(v) − ReLU(−v) = v, plus the old bias: the same
  /// distributions to the rounding of the split product. The starting point of training more
  /// depth into a trained row-summary model.
  public func addingDeeperLayers(_ deeper: [Int], seed: UInt64 = 0) -> VAE {
    guard let rows = architecture.context?.rows, let context, deeper.starts(with: rows.deeper), deeper.count > rows.deeper.count else {
      preconditionFailure("VAE.addingDeeperLayers: \(name) has no row summary whose deeper layers begin \(deeper)")
    }
    let output = context.layers[context.layers.count - 1]
    let width = output.inCount, p = output.outCount
    let added = Array(deeper.dropFirst(rows.deeper.count))
    let identity = added.allSatisfy { $0 == width }
    precondition(identity || (added.count == 1 && added[0] >= 2 * p),
                 "VAE.addingDeeperLayers: add layers \(width) wide, or one of at least \(2 * p)")
    var upgraded = architecture
    upgraded.context?.rows?.deeper = deeper
    precondition(upgraded.problem == nil, "VAE.addingDeeperLayers: \(upgraded.problem ?? "")")
    var layers = Array(context.layers.dropLast())
    if identity {
      var weights = [Float](repeating: 0, count: width * width)
      for j in 0..<width { weights[j * width + j] = 1 }
      let layer = DenseLayer(inCount: width, outCount: width, weights: weights, bias: [Float](repeating: 0, count: width))
      layers += Array(repeating: layer, count: added.count) + [output]
    } else {
      let w = added[0]
      var generator = SeededGenerator(seed: seed)
      var weights = MLP(sizes: [width, w, 1], generator: &generator).layers[0].weights
      var last = [Float](repeating: 0, count: w * p)
      for t in 0..<width {
        for j in 0..<p {
          weights[t * w + j] = output.weights[t * p + j]
          weights[t * w + p + j] = -output.weights[t * p + j]
        }
      }
      for j in 0..<p {
        last[j * p + j] = 1
        last[(p + j) * p + j] = -1
      }
      layers.append(DenseLayer(inCount: width, outCount: w, weights: weights, bias: [Float](repeating: 0, count: w)))
      layers.append(DenseLayer(inCount: w, outCount: p, weights: last, bias: output.bias))
    }
    return VAE(architecture: upgraded, name: name, summary: summary, figures: figures, encoder: encoder,
               decoder: decoder, context: MLP(layers: layers), rows: self.rows, flows: flows)
  }

}
