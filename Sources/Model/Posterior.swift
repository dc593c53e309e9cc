import PortableMath
import CDense

// The posterior q(z|x) of `Posterior`: the reparameterized sample that training and the IWAE
// bound use (`PosteriorPass`), and the conditionals q(z_i | z_<i, x) that the coder and the
// discretized −ELBO use (`PosteriorConditionals`).
//
// The encoder's outputs per image are [μ (L), log σ (L), extra], extra being the K Householder
// vectors v_1 … v_K (L each) or the IAF's context h (C).

/// The masks of the IAF's MADEs (Germain et al. 2015), all in the natural order of the latent
/// dimensions: hidden unit u has degree d(u) = ⌊u (L − 1) / H⌋ (non-decreasing in u); input z_j
/// reaches unit u when d(u) ≥ j, the context h reaches every unit, and unit u reaches outputs
/// m_i and ŝ_i when i > d(u). So outputs i see z_<i only, the units that reach output i are
/// 0 ..< `firstUnit[i]`, and the units that input j reaches are `firstUnit[j]` ..< H.
package struct MADEMask: Sendable {
  package let latentCount: Int
  package let hidden: Int
  package let context: Int
  /// firstUnit[j] = the first unit of degree ≥ j (H if none), j = 0 … L.
  package let firstUnit: [Int]

  package init(_ a: Architecture) {
    guard case .iaf(_, let h, let c) = a.posterior else { preconditionFailure("MADEMask: \(a.posterior.name) is not an IAF") }
    latentCount = a.latentCount
    hidden = h
    context = c
    let l = a.latentCount
    firstUnit = (0...l).map { j in (0..<h).first { u in u * max(l - 1, 0) / h >= j } ?? h }
  }

  package func degree(_ u: Int) -> Int { u * max(latentCount - 1, 0) / hidden }

  /// Whether input t (z_t for t < L, else context value t − L) reaches unit u.
  package func reaches(input t: Int, unit u: Int) -> Bool { t >= latentCount || degree(u) >= t }
  /// Whether unit u reaches output o (m_o for o < L, ŝ_{o−L} after).
  package func reaches(unit u: Int, output o: Int) -> Bool { o % latentCount > degree(u) }

  /// `flow` with every masked weight set to 0.
  package func masked(_ flow: MLP) -> MLP {
    var layers = flow.layers
    let h = hidden, outs = 2 * latentCount
    for t in 0..<layers[0].inCount { for u in 0..<h where !reaches(input: t, unit: u) { layers[0].weights[t * h + u] = 0 } }
    for u in 0..<h { for o in 0..<outs where !reaches(unit: u, output: o) { layers[1].weights[u * outs + o] = 0 } }
    return MLP(layers: layers)
  }

  /// A MADE that starts as the identity step: He-uniform first layer (masked), output layer 0,
  /// so that m = 0 and ŝ = 0, z_k = z_{k−1}.
  package func initialFlow(generator: inout SeededGenerator) -> MLP {
    var flow = MLP(sizes: [latentCount + context, hidden, 2 * latentCount], generator: &generator)
    flow.layers[1].weights = [Float](repeating: 0, count: flow.layers[1].weights.count)
    return masked(flow)
  }
}

extension Architecture {
  /// `flow` (one step's networks) with every weight that its kind holds at 0 set to 0: the
  /// IAF's MADE masks (`MADEMask`); Sylvester's strictly lower triangles (B's weights [t][j]
  /// for t < j, A's [j][i] for j < i; the diagonals are the biases).
  package func maskedFlow(_ flow: MLP) -> MLP {
    switch posterior {
    case .iaf: return MADEMask(self).masked(flow)
    case .sylvester:
      let l = latentCount
      var layers = flow.layers
      for n in 0..<2 { for t in 0..<l { for j in 0...t { layers[n].weights[t * l + j] = 0 } } }
      return MLP(layers: layers)
    case .diagonal, .householder: return flow
    }
  }

  /// One step's networks at the start of training, the identity step: an IAF's MADE with a
  /// random first layer and output 0; a Sylvester step with a small random B, A = 0 and both
  /// diagonals tanh(0) = 0.
  package func initialFlow(generator: inout SeededGenerator) -> MLP {
    switch posterior {
    case .sylvester:
      let l = latentCount
      var b = MLP(sizes: [l, l], generator: &generator).layers[0]
      b.weights = b.weights.map { $0 * 0.1 }
      let zero = DenseLayer(inCount: l, outCount: l, weights: [Float](repeating: 0, count: l * l), bias: [Float](repeating: 0, count: l))
      return maskedFlow(MLP(layers: [b, zero]))
    default:
      return MADEMask(self).initialFlow(generator: &generator)
    }
  }
}

/// The reparameterized sample z of q(z|x) for a batch of rows (training, the IWAE bound), its
/// KL terms, and the gradient back to the encoder's outputs and the flow's weights.
///
/// - diagonal: z = μ + σ ε; KL in closed form (as `Objective` always had it).
/// - householder: z = H_K ⋯ H_1 (μ + σ ε), in Double; KL in closed form (H is orthogonal and
///   the prior isotropic, so KL(q ‖ p) is the diagonal Gaussian's).
/// - iaf: z_0 = μ + σ ε, z_k = z_{k−1} ⊙ exp(ŝ_k) + m_k; the KL as the closed form of the
///   diagonal part plus the sampled rest, Σ_i ½(z_K,i² − z_0,i²) − Σ_k ŝ_k,i (the same
///   expectation as the plain one-sample estimate, with less variance near the identity).
///
/// `logRatio[r]` is the one-sample log q(z|x) − log p(z) of row r in nats, for every kind:
/// Σ_i (−½ ε_i² − log σ_i + ½ z_i²) − log-determinant (the log √2π terms cancel).
package struct PosteriorPass {
  package let rows: Int
  /// rows × L.
  package private(set) var z: [Float]
  /// Σ over rows of the KL term that training minimizes, in nats.
  package private(set) var kl: Double
  package private(set) var logRatio: [Double]

  private let architecture: Architecture
  private let out: [Float]
  private let epsilon: [Float]
  private var sigma: [Float]
  /// Householder: the row's vector before each reflection, (K + 1) × rows × L, in Double.
  private var reflected: [[Double]] = []
  /// IAF: z_k (k = 0 … K), the MADEs' activations, exp(ŝ_k).
  private var levels: [[Float]] = []
  private var activations: [[[Float]]] = []
  private var scales: [[Float]] = []

  /// - Parameters:
  ///   - out: the encoder's outputs, rows × `encoderSizes.last`.
  ///   - epsilon: N(0, 1) noise, rows × L.
  package init(architecture a: Architecture, flows: [MLP], out: [Float], epsilon: [Float], rows: Int) {
    let l = a.latentCount, width = a.encoderSizes.last!
    precondition(out.count == rows * width && epsilon.count == rows * l, "PosteriorPass: \(out.count) outputs and \(epsilon.count) noise values for \(rows) rows")
    architecture = a
    self.rows = rows
    self.out = out
    self.epsilon = epsilon
    let lo = VAE.logScaleRange.lowerBound, hi = VAE.logScaleRange.upperBound
    var z = [Float](repeating: 0, count: rows * l)
    sigma = [Float](repeating: 0, count: rows * l)
    logRatio = [Double](repeating: 0, count: rows)
    var kl = 0.0
    for r in 0..<rows {
      var ratio = 0.0
      for j in 0..<l {
        let mu = out[r * width + j]
        let ls = Swift.min(Swift.max(out[r * width + l + j], lo), hi)
        let s = Float(Portable.exp(Double(ls)))
        sigma[r * l + j] = s
        z[r * l + j] = mu + s * epsilon[r * l + j]
        kl += 0.5 * (Double(mu) * Double(mu) + Double(s) * Double(s) - 1 - 2 * Double(ls))
        let e = Double(epsilon[r * l + j])
        ratio += -0.5 * e * e - Double(ls)
      }
      logRatio[r] = ratio
    }
    switch a.posterior {
    case .diagonal:
      break
    case .householder(let steps):
      var x = z.map(Double.init)
      reflected = [x]
      for k in 0..<steps {
        for r in 0..<rows {
          let v = (r * width + 2 * l + k * l)
          var n = 0.0, c = 0.0
          for j in 0..<l { let vj = Double(out[v + j]); n += vj * vj; c += vj * x[r * l + j] }
          guard n > 0 else { continue }
          let f = 2 * c / n
          for j in 0..<l { x[r * l + j] -= f * Double(out[v + j]) }
        }
        reflected.append(x)
      }
      z = x.map { Float($0) }
    case .iaf(let steps, _, let c):
      levels = [z]
      for k in 0..<steps {
        let previous = levels[k]
        var input = [Float](repeating: 0, count: rows * (l + c))
        for r in 0..<rows {
          for j in 0..<l { input[r * (l + c) + j] = previous[r * l + j] }
          for t in 0..<c { input[r * (l + c) + l + t] = out[r * width + 2 * l + t] }
        }
        let acts = flows[k].forwardKeepingActivations(input, rows: rows)
        let o = acts[acts.count - 1]
        var next = [Float](repeating: 0, count: rows * l)
        var e = [Float](repeating: 0, count: rows * l)
        for r in 0..<rows {
          for j in 0..<l {
            let m = o[r * 2 * l + j]
            let sh = Swift.min(Swift.max(o[r * 2 * l + l + j], lo), hi)
            let scale = Float(Portable.exp(Double(sh)))
            e[r * l + j] = scale
            next[r * l + j] = previous[r * l + j] * scale + m
            kl -= Double(sh)
            logRatio[r] -= Double(sh)
          }
        }
        activations.append(acts)
        scales.append(e)
        levels.append(next)
      }
    case .sylvester(let steps):
      // pre_j = (b_j + Σ_{t<j} z_t B[t][j]) + tanh(B̂_j) z_j;  h = tanh(pre);
      // z'_i = (z_i + Σ_{j<i} h_j A[j][i]) + tanh(Â_i) h_i;  log-det Σ_i log(1 + tanh(Â_i) tanh(B̂_i) (1 − h_i²)).
      levels = [z]
      for k in 0..<steps {
        let previous = levels[k], b = flows[k].layers[0], a = flows[k].layers[1]
        let dB = b.bias.map { Portable.tanh($0) }, dA = a.bias.map { Portable.tanh($0) }
        var h = [Float](repeating: 0, count: rows * l), next = [Float](repeating: 0, count: rows * l)
        for r in 0..<rows {
          for j in 0..<l {
            var pre = out[r * width + 2 * l + k * l + j]
            for t in 0..<j { pre = pre + previous[r * l + t] * b.weights[t * l + j] }
            pre = pre + dB[j] * previous[r * l + j]
            h[r * l + j] = Portable.tanh(pre)
          }
          for i in 0..<l {
            var acc = previous[r * l + i]
            for j in 0..<i { acc = acc + h[r * l + j] * a.weights[j * l + i] }
            next[r * l + i] = acc + dA[i] * h[r * l + i]
            let hi = Double(h[r * l + i])
            let logQ = Portable.log(1 + Double(dA[i]) * Double(dB[i]) * (1 - hi * hi))
            kl -= logQ
            logRatio[r] -= logQ
          }
        }
        scales.append(h)
        levels.append(next)
      }
    }
    if let last = levels.last {
      // IAF and Sylvester: z is the last step's output, and the KL's sampled part ½(z_K² − z_0²).
      z = last
      for i in 0..<(rows * l) {
        let zk = Double(z[i]), z0 = Double(levels[0][i])
        kl += 0.5 * (zk * zk - z0 * z0)
      }
    }
    for r in 0..<rows {
      for j in 0..<l { let zz = Double(z[r * l + j]); logRatio[r] += 0.5 * zz * zz }
    }
    self.z = z
    self.kl = kl
  }

  /// ∂(loss)/∂(encoder outputs) and the flows' gradients, for loss = Σ_rows (reconstruction
  /// + klWeight · KL) with ∂reconstruction/∂z = `dz`.
  /// - Parameter transposed: each flow's `transposedWeights()`.
  package func backward(flows: [MLP], transposed: [[[Float]]], dz: [Float], klWeight: Float) -> (out: [Float], flows: [MLP]) {
    let a = architecture, l = a.latentCount, width = a.encoderSizes.last!
    let lo = VAE.logScaleRange.lowerBound, hi = VAE.logScaleRange.upperBound
    var dOut = [Float](repeating: 0, count: rows * width)
    var g = dz
    var flowGradients: [MLP] = []
    switch a.posterior {
    case .diagonal:
      break
    case .householder(let steps):
      var gd = dz.map(Double.init)
      for k in stride(from: steps - 1, through: 0, by: -1) {
        let x = reflected[k]
        for r in 0..<rows {
          let v = r * width + 2 * l + k * l
          var n = 0.0, c = 0.0, gv = 0.0
          for j in 0..<l {
            let vj = Double(out[v + j])
            n += vj * vj; c += vj * x[r * l + j]; gv += vj * gd[r * l + j]
          }
          guard n > 0 else { continue }
          // y = x − 2 v (vᵀx)/n: ∂/∂v = −2 [(c/n) g + (gᵀv/n) x − 2 (c gᵀv/n²) v]; ∂/∂x = g − 2 v (gᵀv)/n.
          for j in 0..<l {
            let vj = Double(out[v + j])
            dOut[v + j] = Float(-2 * (c / n * gd[r * l + j] + gv / n * x[r * l + j] - 2 * c * gv / (n * n) * vj))
          }
          for j in 0..<l { gd[r * l + j] -= 2 * gv / n * Double(out[v + j]) }
        }
      }
      g = gd.map { Float($0) }
    case .iaf(let steps, _, let c):
      let mask = MADEMask(a)
      for i in 0..<(rows * l) { g[i] = g[i] + klWeight * levels[steps][i] }
      var dh = [Float](repeating: 0, count: rows * c)
      flowGradients = [MLP](repeating: MLP(layers: []), count: steps)
      for k in stride(from: steps - 1, through: 0, by: -1) {
        let o = activations[k][activations[k].count - 1]
        var dO = [Float](repeating: 0, count: rows * 2 * l)
        for r in 0..<rows {
          for j in 0..<l {
            let i = r * l + j, raw = o[r * 2 * l + l + j]
            dO[r * 2 * l + j] = g[i]
            dO[r * 2 * l + l + j] = raw > lo && raw < hi ? g[i] * levels[k][i] * scales[k][i] - klWeight : 0
          }
        }
        let (gradient, dIn) = flows[k].backward(
          activations: activations[k], outputGradient: dO, rows: rows, transposedWeights: transposed[k], wantInputGradient: true)
        flowGradients[k] = mask.masked(gradient)
        for r in 0..<rows {
          for j in 0..<l { g[r * l + j] = g[r * l + j] * scales[k][r * l + j] + dIn[r * (l + c) + j] }
          for t in 0..<c { dh[r * c + t] = dh[r * c + t] + dIn[r * (l + c) + l + t] }
        }
      }
      // The sampled KL's −½ z_0² term.
      for i in 0..<(rows * l) { g[i] = g[i] - klWeight * levels[0][i] }
      for r in 0..<rows { for t in 0..<c { dOut[r * width + 2 * l + t] = dh[r * c + t] } }
    case .sylvester(let steps):
      for i in 0..<(rows * l) { g[i] = g[i] + klWeight * levels[steps][i] }
      flowGradients = [MLP](repeating: MLP(layers: []), count: steps)
      let beta = Double(klWeight)
      for k in stride(from: steps - 1, through: 0, by: -1) {
        let previous = levels[k], h = scales[k], b = flows[k].layers[0], a = flows[k].layers[1]
        let dB = b.bias.map { Portable.tanh($0) }, dA = a.bias.map { Portable.tanh($0) }
        var gradB = b.zeros(), gradA = a.zeros()
        var rawA = [Double](repeating: 0, count: l), rawB = [Double](repeating: 0, count: l)
        var dh = [Float](repeating: 0, count: l), dPre = [Float](repeating: 0, count: l)
        for r in 0..<rows {
          let gr = Array(g[(r * l)..<((r + 1) * l)])
          for j in 0..<l {
            var sum = dA[j] * gr[j]
            for i in (j + 1)..<max(j + 1, l) { sum = sum + gr[i] * a.weights[j * l + i] }
            dh[j] = sum
          }
          for i in 0..<l {
            let hi = Double(h[r * l + i]), w = 1 - hi * hi
            let q = 1 + Double(dA[i]) * Double(dB[i]) * w
            for j in 0..<i { gradA.weights[j * l + i] += h[r * l + j] * gr[i] }
            // ∂/∂tanh(Â_i): g_i h_i − β tanh(B̂_i) w / q;  ∂/∂tanh(B̂_i): −β tanh(Â_i) w / q (and z_i ∂pre below).
            rawA[i] += Double(gr[i]) * hi - beta * Double(dB[i]) * w / q
            rawB[i] += -beta * Double(dA[i]) * w / q
            dh[i] = dh[i] + Float(beta * Double(dA[i]) * Double(dB[i]) * 2 * hi / q)
            dPre[i] = dh[i] * Float(w)
          }
          for j in 0..<l {
            for t in 0..<j { gradB.weights[t * l + j] += previous[r * l + t] * dPre[j] }
            rawB[j] += Double(dPre[j]) * Double(previous[r * l + j])
            dOut[r * width + 2 * l + k * l + j] = dPre[j]
          }
          for t in 0..<l {
            var sum = gr[t] + dB[t] * dPre[t]
            for j in (t + 1)..<max(t + 1, l) { sum = sum + dPre[j] * b.weights[t * l + j] }
            g[r * l + t] = sum
          }
        }
        for i in 0..<l {
          gradA.bias[i] = Float(rawA[i] * (1 - Double(dA[i]) * Double(dA[i])))
          gradB.bias[i] = Float(rawB[i] * (1 - Double(dB[i]) * Double(dB[i])))
        }
        flowGradients[k] = MLP(layers: [gradB, gradA])
      }
      for i in 0..<(rows * l) { g[i] = g[i] - klWeight * levels[0][i] }
    }
    // ∂/∂μ = ∂L/∂z_0 + β μ;  ∂/∂log σ = ∂L/∂z_0 · ε σ + β (σ² − 1), zero where the clamp is active.
    for r in 0..<rows {
      for j in 0..<l {
        let i = r * l + j
        let mu = out[r * width + j], rawLs = out[r * width + l + j]
        let s = sigma[i]
        dOut[r * width + j] = g[i] + klWeight * mu
        dOut[r * width + l + j] = (rawLs > lo && rawLs < hi) ? g[i] * epsilon[i] * s + klWeight * (s * s - 1) : 0
      }
    }
    return (dOut, flowGradients)
  }
}

/// What `PosteriorConditionals` needs of a model's flow beyond the encoder's outputs, laid out
/// for it once per model (or chunk): the IAF's MADE weights by step, the output layer
/// transposed to [output][unit]. A class, so that the coder's per-dimension calls share it
/// rather than copy its arrays.
package final class FlowPlan: Sendable {
  package let architecture: Architecture
  let mask: MADEMask?
  /// Per step: b [H], W [(L + C)][H], W'ᵀ [2L][H], b' [2L], each concatenated over the steps.
  let firstBias: [Float]
  let firstWeights: [Float]
  /// Per step, the MADE's first layer from the context h alone ([C][H], bias b): its product
  /// with h, by the dense kernel, starts the pre-activations.
  let contextLayers: [DenseLayer]
  let secondWeights: [Float]
  let secondBias: [Float]

  /// Sylvester: per step, B and A (strict lower triangles, [t][j]) and tanh of their diagonals, in Double.
  let sylvesterB: [Double]
  let sylvesterA: [Double]
  let diagonalB: [Double]
  let diagonalA: [Double]

  package init(_ model: VAE) {
    architecture = model.architecture
    if case .sylvester = model.architecture.posterior {
      sylvesterB = model.flows.flatMap { $0.layers[0].weights.map(Double.init) }
      sylvesterA = model.flows.flatMap { $0.layers[1].weights.map(Double.init) }
      diagonalB = model.flows.flatMap { $0.layers[0].bias.map { SylvesterMap.tanh(Double($0)) } }
      diagonalA = model.flows.flatMap { $0.layers[1].bias.map { SylvesterMap.tanh(Double($0)) } }
    } else {
      sylvesterB = []; sylvesterA = []; diagonalB = []; diagonalA = []
    }
    guard case .iaf(_, let h, let c) = model.architecture.posterior else {
      mask = nil
      firstBias = []; firstWeights = []; secondWeights = []; secondBias = []; contextLayers = []
      return
    }
    let l = model.architecture.latentCount
    contextLayers = model.flows.map { flow in
      DenseLayer(inCount: c, outCount: h, weights: Array(flow.layers[0].weights[(l * h)...]), bias: flow.layers[0].bias)
    }
    let mask = MADEMask(model.architecture)
    self.mask = mask
    let outs = 2 * mask.latentCount
    firstBias = model.flows.flatMap { $0.layers[0].bias }
    firstWeights = model.flows.flatMap { $0.layers[0].weights }
    secondBias = model.flows.flatMap { $0.layers[1].bias }
    secondWeights = model.flows.flatMap { flow in
      let w = flow.layers[1].weights
      return (0..<outs).flatMap { o in (0..<h).map { u in w[u * outs + o] } }
    }
  }
}

/// q(z_i | z_<i, x) of a flow posterior, as the coder computes it for a block of rows (lanes or
/// images): each a 1-D Gaussian N(mean, scale²) given the values already fixed for the
/// dimensions before i (the coder fixes the buckets' centres). Call `conditional(i)` and then
/// `fix(i, …)` for i = 0, 1, …, L − 1 in order.
///
/// Every row's arithmetic is its own, in one fixed order (the loops over rows are innermost, so
/// the compiler may run rows side by side in SIMD lanes without changing a bit), in Double
/// except the MADEs, which are Float like the other networks:
///
/// - householder: q = N(m, C) with m = H_K ⋯ H_1 μ and C = H diag(σ²) Hᵀ, held as diag(σ²) +
///   U M Uᵀ with U of 2K columns: each reflection H = I − β v vᵀ (β = 2/‖v‖², or 0 where v = 0)
///   turns U into H U and appends v and diag(σ²) v, with the block [[β² vᵀdiag(σ²)v, −β], [−β, 0]]
///   in M. The Cholesky factor of such a matrix is L_ij = u_iᵀ p_j (i > j): for j = 0, 1, …,
///   t = M u_j, L_jj = √max(σ_j² + u_jᵀt, e^−16), p_j = t / L_jj, M ← M − p_j p_jᵀ. Then
///   mean_i = m_i + u_iᵀ Σ_{j<i} p_j e_j, scale_i = L_ii, and e_i = (z_i − mean_i)/scale_i:
///   O(L K²) per row.
/// - iaf: for each step k, MADE_k's hidden pre-activations start as b + Σ_t h_t W[L + t] and
///   gain z_k,j W[j] as dimension j is fixed (units of degree ≥ j, in j order); output i is
///   b' + Σ_{u < firstUnit[i]} ReLU(pre_u) W'[u] in u order. With ŝ clamped and e = exp(ŝ),
///   mean_i = (…(μ_i e_1 + m_1) e_2 + m_2 …) e_K + m_K and scale_i = σ_i e_1 ⋯ e_K; fixing z_K,i
///   gives z_{k−1,i} = (z_k,i − m_k)/e_k for the MADEs' inputs.
///
/// - sylvester: the conditional is not Gaussian: `maps[r]` (`SylvesterMap`) is row r's, with
///   `mean` and `scale` its base Gaussian's; B's and A's sums over the fixed dimensions are
///   kept per step in Double, and fixing z_K,i inverts each step (bisection) for its input.
///
/// Means are clamped to ±`Float.greatestFiniteMagnitude`; network outputs are read through
/// `VAE.finite`, so any weights give finite, positive scales.
package struct PosteriorConditionals {
  package let rows: Int
  let plan: FlowPlan
  let latentCount: Int
  let width: Int
  /// The encoder's outputs, rows × width (finite).
  let out: [Float]
  /// The current dimension's conditional, per row.
  package private(set) var mean: [Double]
  package private(set) var scale: [Double]
  private var next = 0

  // Householder: m [L][rows], U [L][r][rows], p [L][r][rows], L_jj [L][rows], q [r][rows], r = 2K.
  private var centre: [Double] = []
  private var basis: [Double] = []
  private var factor: [Double] = []
  private var pivots: [Double] = []
  private var accumulated: [Double] = []
  private var rank = 0

  // Sylvester: per step, B's sums for the dimensions not fixed [K][L][rows], A's [K][L][rows], and
  // the current dimension's map per row.
  private var sylvesterPre: [Double] = []
  private var sylvesterSum: [Double] = []
  package private(set) var maps: [SylvesterMap] = []

  // IAF: each step's pre-activations [K][H][rows], the ReLU of those already final (units of
  // degree < the next dimension, `activated` of them) [K][H][rows], and each step's m and e for
  // the current dimension [K][rows].
  private var preActivations: [Float] = []
  private var activations: [Float] = []
  private var activated = 0
  private var shifts: [Double] = []
  private var factors: [Double] = []
  private var sums: [Float] = []

  /// - Parameter out: `VAE.posteriorOutputs` of the block's rows.
  package init(model: VAE, out: [Float], rows: Int) {
    self.init(plan: FlowPlan(model), out: out, rows: rows)
  }

  package init(plan: FlowPlan, out: [Float], rows: Int) {
    let a = plan.architecture, l = a.latentCount
    width = a.encoderSizes.last!
    precondition(out.count == rows * width, "PosteriorConditionals: \(out.count) outputs for \(rows) rows of \(width)")
    precondition(a.posterior.isFlow, "PosteriorConditionals: the posterior is diagonal")
    self.rows = rows
    self.plan = plan
    latentCount = l
    self.out = out
    mean = [Double](repeating: 0, count: rows)
    scale = [Double](repeating: 1, count: rows)
    switch a.posterior {
    case .diagonal:
      break
    case .householder(let steps):
      householderSetUp(steps: steps)
    case .sylvester(let steps):
      sylvesterPre = [Double](repeating: 0, count: steps * l * rows)
      for k in 0..<steps {
        for j in 0..<l { for r in 0..<rows { sylvesterPre[(k * l + j) * rows + r] = Double(out[r * width + 2 * l + k * l + j]) } }
      }
      sylvesterSum = [Double](repeating: 0, count: steps * l * rows)
    case .iaf(let steps, let h, let c):
      // b + h·W_h by the dense kernel (rows × H), laid out [H][rows].
      preActivations = [Float](repeating: 0, count: steps * h * rows)
      var context = [Float](repeating: 0, count: rows * c)
      for r in 0..<rows { for t in 0..<c { context[r * c + t] = out[r * width + 2 * l + t] } }
      for k in 0..<steps {
        let start = c == 0 ? (0..<rows).flatMap { _ in plan.contextLayers[k].bias }
          : plan.contextLayers[k].apply(context, rows: rows, relu: false)
        for u in 0..<h { for r in 0..<rows { preActivations[(k * h + u) * rows + r] = start[r * h + u] } }
      }
      activations = [Float](repeating: 0, count: steps * h * rows)
      shifts = [Double](repeating: 0, count: steps * rows)
      factors = shifts
      sums = [Float](repeating: 0, count: 2 * rows)
    }
  }

  private mutating func householderSetUp(steps: Int) {
    let l = latentCount, rank = 2 * steps
    self.rank = rank
    let lo = Double(VAE.logScaleRange.lowerBound), hi = Double(VAE.logScaleRange.upperBound)
    var variance = [Double](repeating: 0, count: l * rows)
    centre = [Double](repeating: 0, count: l * rows)
    for r in 0..<rows {
      for j in 0..<l {
        let s = Portable.exp(Swift.min(Swift.max(Double(out[r * width + l + j]), lo), hi))
        variance[j * rows + r] = s * s
        centre[j * rows + r] = Double(out[r * width + j])
      }
    }
    // U [L][rank][rows] and M [rank][rank][rows], built reflection by reflection.
    var u = [Double](repeating: 0, count: l * rank * rows)
    var m = [Double](repeating: 0, count: rank * rank * rows)
    var v = [Double](repeating: 0, count: l * rows)
    var beta = [Double](repeating: 0, count: rows), t = [Double](repeating: 0, count: rows)
    var vDv = [Double](repeating: 0, count: rows)
    for k in 0..<steps {
      for j in 0..<l { for r in 0..<rows { v[j * rows + r] = Double(out[r * width + 2 * l + k * l + j]) } }
      for r in 0..<rows { beta[r] = 0; vDv[r] = 0 }
      for j in 0..<l { for r in 0..<rows { beta[r] += v[j * rows + r] * v[j * rows + r] } }
      for r in 0..<rows { beta[r] = beta[r] > 0 ? 2 / beta[r] : 0 }
      // x ← x − β v (vᵀx) for each column of U so far, and for m.
      func reflect(_ x: inout [Double], column: Int, columns: Int) {
        for r in 0..<rows { t[r] = 0 }
        for j in 0..<l { for r in 0..<rows { t[r] += v[j * rows + r] * x[(j * columns + column) * rows + r] } }
        for r in 0..<rows { t[r] *= beta[r] }
        for j in 0..<l { for r in 0..<rows { x[(j * columns + column) * rows + r] -= t[r] * v[j * rows + r] } }
      }
      for column in 0..<(2 * k) { reflect(&u, column: column, columns: rank) }
      reflect(&centre, column: 0, columns: 1)
      for j in 0..<l {
        for r in 0..<rows {
          let dv = variance[j * rows + r] * v[j * rows + r]
          u[(j * rank + 2 * k) * rows + r] = v[j * rows + r]
          u[(j * rank + 2 * k + 1) * rows + r] = dv
          vDv[r] += v[j * rows + r] * dv
        }
      }
      for r in 0..<rows {
        m[((2 * k) * rank + 2 * k) * rows + r] = beta[r] * beta[r] * vDv[r]
        m[((2 * k) * rank + 2 * k + 1) * rows + r] = -beta[r]
        m[((2 * k + 1) * rank + 2 * k) * rows + r] = -beta[r]
      }
    }
    // The Cholesky factor, column by column.
    let floor = Portable.exp(2 * lo)
    factor = [Double](repeating: 0, count: l * rank * rows)
    pivots = [Double](repeating: 0, count: l * rows)
    var mu = [Double](repeating: 0, count: rank * rows)
    let count = rows
    u.withUnsafeBufferPointer { u in
      m.withUnsafeMutableBufferPointer { m in
        mu.withUnsafeMutableBufferPointer { mu in
          factor.withUnsafeMutableBufferPointer { factor in
            pivots.withUnsafeMutableBufferPointer { pivots in
              variance.withUnsafeBufferPointer { variance in
                t.withUnsafeMutableBufferPointer { t in
                  let u = u.baseAddress!, m = m.baseAddress!, mu = mu.baseAddress!, f = factor.baseAddress!
                  let pivot = pivots.baseAddress!, v = variance.baseAddress!, t = t.baseAddress!
                  for j in 0..<l {
                    let uj = u + j * rank * count, fj = f + j * rank * count, pj = pivot + j * count
                    for a in 0..<rank {
                      let out = mu + a * count
                      for r in 0..<count { out[r] = 0 }
                      for b in 0..<rank {
                        let mab = m + (a * rank + b) * count, ub = uj + b * count
                        for r in 0..<count { out[r] += mab[r] * ub[r] }
                      }
                    }
                    for r in 0..<count { t[r] = v[j * count + r] }
                    for a in 0..<rank {
                      let ua = uj + a * count, ma = mu + a * count
                      for r in 0..<count { t[r] += ua[r] * ma[r] }
                    }
                    for r in 0..<count { pj[r] = Swift.max(t[r], floor).squareRoot() }
                    for a in 0..<rank {
                      let fa = fj + a * count, ma = mu + a * count
                      for r in 0..<count { fa[r] = ma[r] / pj[r] }
                    }
                    for a in 0..<rank {
                      let fa = fj + a * count
                      for b in 0..<rank {
                        let mab = m + (a * rank + b) * count, fb = fj + b * count
                        for r in 0..<count { mab[r] -= fa[r] * fb[r] }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    basis = u
    accumulated = [Double](repeating: 0, count: rank * rows)
  }

  /// Computes `mean` and `scale` of dimension i for every row.
  package mutating func conditional(_ i: Int) {
    precondition(i == next, "PosteriorConditionals: dimension \(i) asked for before \(next)")
    let l = latentCount, bound = Double(Float.greatestFiniteMagnitude), rows = rows, width = width
    switch plan.architecture.posterior {
    case .diagonal:
      break
    case .sylvester(let steps):
      let lo = Double(VAE.logScaleRange.lowerBound), hi = Double(VAE.logScaleRange.upperBound)
      maps = (0..<rows).map { r in
        var parameters = [Double](repeating: 0, count: 4 * steps)
        for k in 0..<steps {
          parameters[4 * k] = sylvesterPre[(k * l + i) * rows + r]
          parameters[4 * k + 1] = plan.diagonalB[k * l + i]
          parameters[4 * k + 2] = sylvesterSum[(k * l + i) * rows + r]
          parameters[4 * k + 3] = plan.diagonalA[k * l + i]
        }
        return SylvesterMap(mean: Double(out[r * width + i]),
                            scale: Portable.exp(Swift.min(Swift.max(Double(out[r * width + l + i]), lo), hi)),
                            parameters: parameters)
      }
      for r in 0..<rows { mean[r] = maps[r].mean; scale[r] = maps[r].scale }
      return
    case .householder:
      for r in 0..<rows { mean[r] = centre[i * rows + r] }
      for a in 0..<rank { for r in 0..<rows { mean[r] += basis[(i * rank + a) * rows + r] * accumulated[a * rows + r] } }
      for r in 0..<rows { scale[r] = pivots[i * rows + r] }
    case .iaf(let steps, let h, _):
      let lo = VAE.logScaleRange.lowerBound, hi = VAE.logScaleRange.upperBound
      let plan = plan, units = plan.mask!.firstUnit[i], done = activated
      activated = Swift.max(activated, units)
      out.withUnsafeBufferPointer { out in
        preActivations.withUnsafeBufferPointer { pre in
          activations.withUnsafeMutableBufferPointer { act in
            plan.secondWeights.withUnsafeBufferPointer { w in
              sums.withUnsafeMutableBufferPointer { sum in
                mean.withUnsafeMutableBufferPointer { mean in
                  scale.withUnsafeMutableBufferPointer { scale in
                    shifts.withUnsafeMutableBufferPointer { shifts in
                      factors.withUnsafeMutableBufferPointer { factors in
                        let out = out.baseAddress!, mean = mean.baseAddress!, scale = scale.baseAddress!
                        // The base Gaussian: μ_i and σ_i = exp(clamped log σ_i), 4 rows at a time
                        // (bit-identical to the scalar exp), the rest one by one.
                        var r = 0
                        while r + 4 <= rows {
                          var x = SIMD4<Double>(repeating: 0)
                          for q in 0..<4 {
                            mean[r + q] = Double(out[(r + q) * width + i])
                            x[q] = Double(Swift.min(Swift.max(out[(r + q) * width + l + i], lo), hi))
                          }
                          let e = Portable.exp(x)
                          for q in 0..<4 { scale[r + q] = e[q] }
                          r += 4
                        }
                        while r < rows {
                          mean[r] = Double(out[r * width + i])
                          scale[r] = Portable.exp(Double(Swift.min(Swift.max(out[r * width + l + i], lo), hi)))
                          r += 1
                        }
                        // Units that became final since the last dimension: their ReLU, once.
                        if units > done {
                          for k in 0..<steps {
                            let p = pre.baseAddress! + k * h * rows, a = act.baseAddress! + k * h * rows
                            for q in (done * rows)..<(units * rows) { a[q] = p[q] > 0 ? p[q] : 0 }
                          }
                        }
                        let m = sum.baseAddress!, s = sum.baseAddress! + rows
                        for k in 0..<steps {
                          let x = UnsafePointer(act.baseAddress! + k * h * rows)
                          let wm = w.baseAddress! + (k * 2 * l + i) * h, ws = w.baseAddress! + (k * 2 * l + l + i) * h
                          // m = b_m + Σ_u a_u w_m[u] and s likewise, u from 0 up, each row's own sequence.
                          bbans_made_outputs(units, rows, x, wm, ws, plan.secondBias[k * 2 * l + i],
                                             plan.secondBias[k * 2 * l + l + i], m, s)
                          let shift = shifts.baseAddress! + k * rows, factor = factors.baseAddress! + k * rows
                          // exp on 4 rows at a time (bit-identical to the scalar exp), the rest one by one.
                          var r = 0
                          while r < rows {
                            let n = Swift.min(4, rows - r)
                            var x = SIMD4<Double>(repeating: 0)
                            for q in 0..<n { x[q] = Double(Swift.min(Swift.max(VAE.finite(s[r + q]), lo), hi)) }
                            let e4 = n == 4 ? Portable.exp(x) : SIMD4(Portable.exp(x[0]), n > 1 ? Portable.exp(x[1]) : 0,
                                                                       n > 2 ? Portable.exp(x[2]) : 0, 0)
                            for q in 0..<n {
                              let e = e4[q], b = Double(VAE.finite(m[r + q]))
                              shift[r + q] = b
                              factor[r + q] = e
                              mean[r + q] = mean[r + q] * e + b
                              scale[r + q] = scale[r + q] * e
                            }
                            r += n
                          }
                        }
                        for r in 0..<rows { mean[r] = Swift.min(Swift.max(mean[r], -bound), bound) }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
      return
    }
    for r in 0..<rows { mean[r] = Swift.min(Swift.max(mean[r], -bound), bound) }
  }

  /// Fixes dimension i of every row at `values[r]` (the coder: its bucket's centre).
  package mutating func fix(_ i: Int, values: [Double]) {
    precondition(i == next && values.count == rows, "PosteriorConditionals: fixing dimension \(i) (\(values.count) values) before \(next)")
    next += 1
    let l = latentCount, rows = rows
    switch plan.architecture.posterior {
    case .diagonal:
      break
    case .sylvester(let steps):
      for r in 0..<rows {
        let levels = maps[r].preimages(values[r])
        for k in 0..<steps {
          // Step k's input at dimension i is levels[k]: B's sums gain it, A's gain h_i.
          let x = levels[k]
          let h = SylvesterMap.tanh(maps[r].parameters[4 * k] + maps[r].parameters[4 * k + 1] * x)
          for j in (i + 1)..<Swift.max(i + 1, l) {
            sylvesterPre[(k * l + j) * rows + r] += x * plan.sylvesterB[(k * l + i) * l + j]
            sylvesterSum[(k * l + j) * rows + r] += h * plan.sylvesterA[(k * l + i) * l + j]
          }
        }
      }
    case .householder:
      for r in 0..<rows {
        let e = (values[r] - mean[r]) / scale[r]
        for a in 0..<rank { accumulated[a * rows + r] += factor[(i * rank + a) * rows + r] * e }
      }
    case .iaf(let steps, let h, let c):
      let plan = plan, start = plan.mask!.firstUnit[i]
      preActivations.withUnsafeMutableBufferPointer { pre in
        plan.firstWeights.withUnsafeBufferPointer { w in
          sums.withUnsafeMutableBufferPointer { input in
            mean.withUnsafeMutableBufferPointer { level in
              shifts.withUnsafeBufferPointer { shifts in
                factors.withUnsafeBufferPointer { factors in
                  // The level being inverted, in place: z_K,i, then z_{K−1},i = (z_K,i − m_K)/e_K, ….
                  let level = level.baseAddress!, input = input.baseAddress!
                  for r in 0..<rows { level[r] = values[r] }
                  for k in stride(from: steps - 1, through: 0, by: -1) {
                    let shift = shifts.baseAddress! + k * rows, factor = factors.baseAddress! + k * rows
                    for r in 0..<rows {
                      level[r] = (level[r] - shift[r]) / factor[r]
                      input[r] = VAE.finite(Float(level[r]))
                    }
                    let p = pre.baseAddress! + k * h * rows, weights = w.baseAddress! + (k * (l + c) + i) * h
                    bbans_made_inputs(start, h, rows, input, weights, p)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Dimension i of a Sylvester posterior given the dimensions before it: z_K,i = G(x) with
/// x ~ N(mean, scale²) the base variable and G = g_K ∘ ⋯ ∘ g_1, each step
///
///     g_k(x) = (x + e_k) + d_k · tanh(c_k + d̃_k · x)
///
/// with c_k = b_i + Σ_{t<i} z_t B[t][i] and e_k = Σ_{j<i} h_j A[j][i] from the dimensions already
/// fixed, d̃_k = tanh(B̂_i), d_k = tanh(Â_i). |d_k d̃_k| < 1, so g_k′ = 1 + d_k d̃_k (1 − tanh²) > 0:
/// each step is increasing, and its inverse at y lies within y − e_k ± 1, found by bisection
/// (`inverse`). q's mass below a bucket edge y is Φ((G⁻¹(y) − mean)/scale).
package struct SylvesterMap: Sendable {
  package let mean: Double
  package let scale: Double
  /// Per step: c, d̃, e, d.
  package let parameters: [Double]

  package var steps: Int { parameters.count / 4 }

  /// tanh in Double from `Portable.expm1` (NaN → 0): the coder's.
  package static func tanh(_ x: Double) -> Double {
    if x.isNaN { return 0 }
    let a = Swift.abs(x)
    if a > 20 { return x > 0 ? 1 : -1 }
    let e = Portable.expm1(2 * a)
    let t = e / (e + 2)
    return x < 0 ? -t : t
  }

  package func step(_ k: Int, _ x: Double) -> Double {
    let p = 4 * k
    return (x + parameters[p + 2]) + parameters[p + 3] * Self.tanh(parameters[p] + parameters[p + 1] * x)
  }

  /// G(x).
  package func forward(_ x: Double) -> Double {
    var y = x
    for k in 0..<steps { y = step(k, y) }
    return y
  }

  /// The bracket [lo, hi] of step k's inverse at y: g_k(lo) < y ≤ g_k(hi) (in this arithmetic),
  /// with no Double strictly inside (hi the next Double after lo, where g_k's rounding does
  /// not stop it), or the best of at most 200 probes. Newton's steps from y − e (at most 8, kept
  /// inside [y − e − 1, y − e + 1], where the root lies) find a point near the root; steps of
  /// 1, 2, 4, … Doubles from it find both sides; bisection closes the bracket.
  package func bracket(_ k: Int, _ y: Double) -> (lo: Double, hi: Double) {
    let p = 4 * k, c = parameters[p], slope = parameters[p + 1], e = parameters[p + 2], d = parameters[p + 3]
    let base = y - e
    var lo = base - 1, hi = base + 1
    @inline(__always) func g(_ x: Double) -> (value: Double, t: Double) {
      let t = Self.tanh(c + slope * x)
      return ((x + e) + d * t, t)
    }
    var probes = 0
    var x = base
    for _ in 0..<8 {
      let (value, t) = g(x)
      probes += 1
      if value < y { lo = Swift.max(lo, x) } else { hi = Swift.min(hi, x) }
      let next = x - (value - y) / (1 + d * slope * (1 - t * t))
      if next == x || !(next > lo && next < hi) { break }
      x = next
    }
    // Widen from x until both sides are found (each probe also tightens the bracket).
    var step = Swift.max(x.ulp, Double.leastNonzeroMagnitude)
    let below = g(x).value < y
    probes += 1
    var edge = x
    while probes < 100 {
      let other = below ? edge + step : edge - step
      guard other > lo && other < hi else { break }
      probes += 1
      if g(other).value < y { lo = other; if !below { break } } else { hi = other; if below { break } }
      edge = other
      step *= 2
    }
    while probes < 200 {
      let mid = lo + (hi - lo) * 0.5
      if mid <= lo || mid >= hi { break }
      probes += 1
      if g(mid).value < y { lo = mid } else { hi = mid }
    }
    return (lo, hi)
  }

  /// The input of every step on the way to y: [x_0 = G⁻¹(y), x_1, …, x_{K−1}] (x_k the input of
  /// step k, x_K = y), each the lower end of its bracket.
  package func preimages(_ y: Double) -> [Double] {
    var levels = [Double](repeating: 0, count: steps)
    var x = y
    for k in stride(from: steps - 1, through: 0, by: -1) {
      x = bracket(k, x).lo
      levels[k] = x
    }
    return levels
  }

  /// G⁻¹(y).
  package func inverse(_ y: Double) -> Double {
    steps == 0 ? y : preimages(y)[0]
  }

  /// log N(G⁻¹(y); mean, scale²) − log G′ there, without the log √(2π): the log-density of z_i = y.
  package func logDensity(_ y: Double) -> Double {
    let levels = preimages(y)
    let e = ((steps == 0 ? y : levels[0]) - mean) / scale
    var result = -0.5 * e * e - Portable.log(scale)
    for k in 0..<steps {
      let p = 4 * k
      let t = Self.tanh(parameters[p] + parameters[p + 1] * levels[k])
      result -= Portable.log(1 + parameters[p + 3] * parameters[p + 1] * (1 - t * t))
    }
    return result
  }
}

extension VAE {
  /// The encoder's outputs for `count` images, each made finite (`VAE.finite`): count ×
  /// `encoderSizes.last` (μ, log σ, then the posterior's extra outputs).
  package func posteriorOutputs(pixels: UnsafeBufferPointer<UInt8>, count: Int) -> [Float] {
    if count == 0 { return [] }
    let input = encoderInput(pixels: pixels, count: count)
    return input.withUnsafeBufferPointer { encoder.forward($0, rows: count) }.map(VAE.finite)
  }

  /// This model with a flow posterior of `kind` in place of its diagonal one, starting where
  /// the diagonal one is: the encoder gains the flow's outputs (new columns of its last layer),
  /// the IAF's MADEs start as the identity, and the Householder vectors start in equal pairs
  /// (H_{2m+1} H_{2m} = I, so an even K starts as the identity).
  public func addingPosterior(_ kind: Posterior, seed: UInt64) -> VAE {
    precondition(architecture.posterior == .diagonal && kind.isFlow, "VAE.addingPosterior: \(name) already has a flow posterior")
    var upgraded = architecture
    upgraded.posterior = kind
    precondition(upgraded.problem == nil, "VAE.addingPosterior: \(upgraded.problem ?? "")")
    let l = architecture.latentCount, extra = kind.extraEncoderOutputs(latentCount: l)
    var generator = SeededGenerator(seed: seed)
    let last = encoder.layers[encoder.layers.count - 1]
    let n = last.inCount, m = last.outCount, wide = m + extra
    let fresh = MLP(sizes: [n, extra], generator: &generator).layers[0]
    var weights = [Float](repeating: 0, count: n * wide)
    for t in 0..<n {
      for j in 0..<m { weights[t * wide + j] = last.weights[t * m + j] }
      for j in 0..<extra {
        // Householder: v_{2q+1} copies v_{2q}.
        var source = j
        if case .householder = kind, (j / l) % 2 == 1 { source = j - l }
        weights[t * wide + m + j] = fresh.weights[t * extra + source]
      }
    }
    var layers = encoder.layers
    layers[layers.count - 1] = DenseLayer(inCount: n, outCount: wide, weights: weights, bias: last.bias + [Float](repeating: 0, count: extra))
    let flows = (0..<kind.flowSteps).map { _ in upgraded.initialFlow(generator: &generator) }
    return VAE(architecture: upgraded, name: name, summary: summary, figures: figures, encoder: MLP(layers: layers),
               decoder: decoder, context: context, rows: rows, flows: flows)
  }
}
