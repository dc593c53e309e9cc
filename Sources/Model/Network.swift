import CDense
import PortableMath
import Hashing
/// A fully connected layer: y = b + x·W, weights laid out [in][out] (row t holds the weights
/// from input t to every output), so that the kernel streams rows of W.
package struct DenseLayer: Equatable, Sendable {
  package var inCount: Int
  package var outCount: Int
  /// inCount × outCount, row-major. Changing them drops `integer`, which was rounded from them.
  package var weights: [Float] { didSet { integer = nil } }
  /// outCount.
  package var bias: [Float]
  /// The weights rounded for the integer product (`Arithmetic.int16`), or nil for Float
  /// products; `MLP.forward` uses them, training's passes never do.
  package private(set) var integer: IntegerMatrix?

  package init(inCount: Int, outCount: Int, weights: [Float], bias: [Float]) {
    precondition(weights.count == inCount * outCount && bias.count == outCount, "DenseLayer: tensor sizes do not match \(inCount)×\(outCount)")
    self.inCount = inCount
    self.outCount = outCount
    self.weights = weights
    self.bias = bias
  }

  /// This layer with its weights rounded for the integer product.
  package func integerForm() -> DenseLayer {
    var layer = self
    layer.integer = IntegerMatrix(self)
    return layer
  }

  /// This layer without its integer form.
  package func floatForm() -> DenseLayer {
    var layer = self
    layer.integer = nil
    return layer
  }

  /// A layer of zeros of the same shape (gradients, Adam moments).
  package func zeros() -> DenseLayer {
    DenseLayer(inCount: inCount, outCount: outCount,
      weights: [Float](repeating: 0, count: weights.count), bias: [Float](repeating: 0, count: bias.count))
  }
}

/// A multilayer perceptron: ReLU after every layer but the last, which is linear.
///
/// ReLU needs no elementary function, so the hidden layers are exact in any build.
package struct MLP: Equatable, Sendable {
  package var layers: [DenseLayer]

  package init(layers: [DenseLayer]) {
    for i in layers.indices.dropFirst() {
      precondition(layers[i].inCount == layers[i - 1].outCount, "MLP: layer \(i) takes \(layers[i].inCount) inputs but layer \(i - 1) gives \(layers[i - 1].outCount)")
    }
    self.layers = layers
  }

  /// Sizes [in, hidden..., out] with He-uniform weights from `generator` and zero biases.
  package init(sizes: [Int], generator: inout SeededGenerator) {
    precondition(sizes.count >= 2, "MLP: needs at least an input and an output size")
    var layers: [DenseLayer] = []
    for i in 0..<(sizes.count - 1) {
      let n = sizes[i], m = sizes[i + 1]
      // He-uniform: U(−l, l) with l = √(6 / fan_in), halved for the linear output layer.
      var limit = Float((6.0 / Double(n)).squareRoot())
      if i == sizes.count - 2 { limit *= 0.5 }
      let w = (0..<(n * m)).map { _ in (Float(generator.nextUnit()) * 2 - 1) * limit }
      layers.append(DenseLayer(inCount: n, outCount: m, weights: w, bias: [Float](repeating: 0, count: m)))
    }
    self.init(layers: layers)
  }

  package var inCount: Int { layers[0].inCount }
  package var outCount: Int { layers[layers.count - 1].outCount }
  package var maxWidth: Int { layers.reduce(layers[0].inCount) { Swift.max($0, $1.outCount) } }

  /// The network's output for `rows` inputs (rows × inCount): rows × outCount, through the
  /// integer product in the layers that have an integer form.
  package func forward(_ input: UnsafeBufferPointer<Float>, rows: Int) -> [Float] {
    precondition(input.count >= rows * inCount, "MLP.forward: input holds \(input.count) values, needs \(rows * inCount)")
    var current = Array(input.prefix(rows * inCount))
    for (i, layer) in layers.enumerated() {
      current = layer.apply(current, rows: rows, relu: i < layers.count - 1, integer: true)
    }
    return current
  }

  /// Every layer with its weights rounded for the integer product.
  package func integerForm() -> MLP { MLP(layers: layers.map { $0.integerForm() }) }
  /// Every layer without its integer form.
  package func floatForm() -> MLP { MLP(layers: layers.map { $0.floatForm() }) }

  /// Forward pass keeping every layer's output, for `backward`.
  /// activations[0] is the input; activations[i + 1] is layer i's output (after ReLU if hidden).
  package func forwardKeepingActivations(_ input: [Float], rows: Int) -> [[Float]] {
    var activations = [input]
    activations.reserveCapacity(layers.count + 1)
    for (i, layer) in layers.enumerated() {
      activations.append(layer.apply(activations[i], rows: rows, relu: i < layers.count - 1))
    }
    return activations
  }

  /// Backward pass: given ∂L/∂output (rows × outCount), the gradients of every weight and bias
  /// (summed over rows, in row order) and, if asked, ∂L/∂input.
  /// - Parameter transposedWeights: layer i's weights transposed ([out][in]), for the input gradient.
  package func backward(
    activations: [[Float]], outputGradient: [Float], rows: Int,
    transposedWeights: [[Float]], wantInputGradient: Bool
  ) -> (gradients: MLP, inputGradient: [Float]) {
    var grads = layers.map { $0.zeros() }
    var dy = outputGradient
    var inputGradient: [Float] = []
    for i in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[i]
      let n = layer.inCount, m = layer.outCount
      if i < layers.count - 1 {
        // ReLU: ∂y/∂pre = 1 where the output is positive.
        activations[i + 1].withUnsafeBufferPointer { out in
          dy.withUnsafeMutableBufferPointer { bbans_relu_mask($0.baseAddress!, out.baseAddress!, rows * m) }
        }
      }
      // ∂L/∂W[t][j] = Σ_r x[r][t] · dy[r][j]: A = xᵀ (row stride 1, inner stride n).
      activations[i].withUnsafeBufferPointer { x in
        dy.withUnsafeBufferPointer { d in
          grads[i].weights.withUnsafeMutableBufferPointer { g in
            Dense.matrixProduct(rows: n, columns: m, inner: rows, a: x.baseAddress!, aRowStride: 1, aInnerStride: n,
              b: d.baseAddress!, bRowStride: m, start: nil, c: g.baseAddress!, cRowStride: m)
          }
        }
      }
      // ∂L/∂b[j] = Σ_r dy[r][j], r ascending.
      dy.withUnsafeBufferPointer { d in
        grads[i].bias.withUnsafeMutableBufferPointer { b in
          for r in 0..<rows {
            let row = d.baseAddress! + r * m
            for j in 0..<m { b[j] = b[j] + row[j] }
          }
        }
      }
      if i > 0 || wantInputGradient {
        // ∂L/∂x = dy · Wᵀ.
        var dx = [Float](repeating: 0, count: rows * n)
        dy.withUnsafeBufferPointer { d in
          transposedWeights[i].withUnsafeBufferPointer { wt in
            dx.withUnsafeMutableBufferPointer { o in
              Dense.matrixProduct(rows: rows, columns: n, inner: m, a: d.baseAddress!, aRowStride: m, aInnerStride: 1,
                b: wt.baseAddress!, bRowStride: n, start: nil, c: o.baseAddress!, cRowStride: n)
            }
          }
        }
        if i == 0 { inputGradient = dx } else { dy = dx }
      }
    }
    return (MLP(layers: grads), inputGradient)
  }

  /// Every layer's weights transposed to [out][in].
  package func transposedWeights() -> [[Float]] {
    layers.map { layer in
      var t = [Float](repeating: 0, count: layer.weights.count)
      layer.weights.withUnsafeBufferPointer { w in
        t.withUnsafeMutableBufferPointer { o in
          Dense.transpose(w.baseAddress!, rows: layer.inCount, columns: layer.outCount, into: o.baseAddress!)
        }
      }
      return t
    }
  }
}

extension DenseLayer {
  /// y = b + x·W for `rows` inputs, then ReLU if asked; through the integer product when
  /// `integer` is true and the layer has an integer form.
  package func apply(_ x: [Float], rows: Int, relu: Bool, integer useInteger: Bool = false) -> [Float] {
    var y = [Float](repeating: 0, count: rows * outCount)
    x.withUnsafeBufferPointer { xp in
      weights.withUnsafeBufferPointer { w in
        bias.withUnsafeBufferPointer { b in
          y.withUnsafeMutableBufferPointer { yp in
            if useInteger, let integer {
              integer.product(rows: rows, a: xp.baseAddress!, aRowStride: inCount, start: b.baseAddress!,
                              c: yp.baseAddress!, cRowStride: outCount)
            } else {
              Dense.matrixProduct(rows: rows, columns: outCount, inner: inCount,
                a: xp.baseAddress!, aRowStride: inCount, aInnerStride: 1,
                b: w.baseAddress!, bRowStride: outCount, start: b.baseAddress!,
                c: yp.baseAddress!, cRowStride: outCount)
            }
            if relu { Dense.relu(yp.baseAddress!, count: rows * outCount) }
          }
        }
      }
    }
    return y
  }
}
