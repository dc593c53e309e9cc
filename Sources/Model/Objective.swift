import PortableMath
import Hashing
/// The training objective: the continuous −ELBO of a shard of images, with the
/// reparameterization trick (Kingma and Welling, 2014) and the KL in closed form, and its
/// gradient with respect to every weight.
///
///     z = μ + σ·ε,   ε ~ N(0, I) given
///     −ELBO = −log p(x | z) + KL(q(z|x) ‖ N(0, I)),
///     KL = ½ Σ_j (μ_j² + σ_j² − 1 − 2 log σ_j)
package enum Objective {
  package struct Result {
    /// Σ over the rows of −log p(x | z), in nats.
    package var reconstruction: Double
    /// Σ over the rows of the KL, in nats.
    package var kl: Double
    /// Gradients summed over the rows.
    package var encoder: MLP
    package var decoder: MLP
    /// The context network's gradients, when the model has one.
    package var context: MLP?
    /// The row summary's gradients, when the context head has one.
    package var rows: RowNetworks?
    /// The IAF posterior's MADEs' gradients (masked), one per step; empty for other posteriors.
    package var flows: [MLP] = []
  }

  /// −ELBO and its gradients for `rows` images.
  /// - Parameters:
  ///   - input: the encoder input, rows × pixelCount (see `VAE.encoderInput`).
  ///   - targets: the pixel values the likelihood scores, rows × pixelCount.
  ///   - epsilon: the reparameterization noise, rows × latentCount.
  ///   - transposed: the networks' weights transposed (`MLP.transposedWeights`).
  ///   - klWeight: β, the weight of the KL term in the gradient (KL warm-up); the returned
  ///     `kl` is always the unweighted KL.
  package static func evaluate(
    architecture: Architecture, encoder: MLP, decoder: MLP, context: MLP? = nil, rowNetworks: RowNetworks? = nil,
    flows: [MLP] = [], flowsTransposed: [[[Float]]] = [],
    transposed: (encoder: [[Float]], decoder: [[Float]], context: [[Float]]),
    input: [Float], targets: [UInt8], epsilon: [Float], rows: Int, klWeight: Float = 1
  ) -> Result {
    precondition(rows > 0, "Objective.evaluate: no rows")
    let pixels = architecture.pixelCount, ppp = architecture.parametersPerPixel
    let encoderActivations = encoder.forwardKeepingActivations(input, rows: rows)
    let out = encoderActivations[encoderActivations.count - 1]
    let sample = PosteriorPass(architecture: architecture, flows: flows, out: out, epsilon: epsilon, rows: rows)
    let z = sample.z, kl = sample.kl
    let decoderActivations = decoder.forwardKeepingActivations(z, rows: rows)
    let decoderOutputs = decoderActivations[decoderActivations.count - 1]
    // With a context network, the head's parameters come from it, pixel by pixel (teacher forcing).
    var contextActivations: [[Float]] = []
    var rowPass: RowContextPass?
    if architecture.context?.rows != nil, let context, let rowNetworks {
      rowPass = targets.withUnsafeBufferPointer { x in
        RowContextPass(plan: RowContextPlan(architecture), context: context, rows: rowNetworks, features: decoderOutputs,
                       pixels: x, count: rows)
      }
      contextActivations = rowPass!.activations
    } else if let head = architecture.context, let context {
      let input = targets.withUnsafeBufferPointer { x in
        contextInput(architecture: architecture, decoderOutputs: decoderOutputs, pixels: x, count: rows, head: head)
      }
      contextActivations = context.forwardKeepingActivations(input, rows: rows * pixels)
    }
    let params = contextActivations.last ?? decoderOutputs
    var dParams = [Float](repeating: 0, count: params.count)
    var reconstruction = 0.0
    params.withUnsafeBufferPointer { p in
      targets.withUnsafeBufferPointer { x in
        dParams.withUnsafeMutableBufferPointer { g in
          for r in 0..<rows {
            reconstruction += Heads.negativeLogLikelihood(
              architecture.likelihood, params: p.baseAddress! + r * pixels * ppp, pixels: x.baseAddress! + r * pixels,
              pixelCount: pixels, gradient: g.baseAddress! + r * pixels * ppp)
          }
        }
      }
    }
    var contextGradient: MLP?
    var rowGradient: RowNetworks?
    var dDecoderOutputs = dParams
    if let rowPass, let context, let rowNetworks {
      let back = rowPass.backward(context: context, rows: rowNetworks, contextTransposed: transposed.context, outputGradient: dParams)
      contextGradient = back.context
      rowGradient = back.rows
      dDecoderOutputs = back.features
    } else if let head = architecture.context, let context {
      let (gradient, dInput) = context.backward(
        activations: contextActivations, outputGradient: dParams, rows: rows * pixels,
        transposedWeights: transposed.context, wantInputGradient: true)
      contextGradient = gradient
      // Only the features carry a gradient back to the decoder; the neighbours are data.
      let f = head.features, d = head.inputCount
      dDecoderOutputs = [Float](repeating: 0, count: rows * pixels * f)
      for q in 0..<(rows * pixels) {
        for j in 0..<f { dDecoderOutputs[q * f + j] = dInput[q * d + j] }
      }
    }
    let (decoderGradient, dz) = decoder.backward(
      activations: decoderActivations, outputGradient: dDecoderOutputs, rows: rows,
      transposedWeights: transposed.decoder, wantInputGradient: true)
    let (dOut, flowGradients) = sample.backward(flows: flows, transposed: flowsTransposed, dz: dz, klWeight: klWeight)
    let (encoderGradient, _) = encoder.backward(
      activations: encoderActivations, outputGradient: dOut, rows: rows,
      transposedWeights: transposed.encoder, wantInputGradient: false)
    return Result(reconstruction: reconstruction, kl: kl, encoder: encoderGradient, decoder: decoderGradient,
                  context: contextGradient, rows: rowGradient, flows: flowGradients)
  }

  /// The context network's input rows for every pixel of `count` images (see `VAE.contextInput`).
  static func contextInput(
    architecture: Architecture, decoderOutputs: [Float], pixels: UnsafeBufferPointer<UInt8>, count: Int, head: ContextHead
  ) -> [Float] {
    let p = architecture.pixelCount, d = head.inputCount
    let neighbourhood = ContextNeighbourhood(architecture)
    var input = [Float](repeating: 0, count: count * p * d)
    input.withUnsafeMutableBufferPointer { x in
      decoderOutputs.withUnsafeBufferPointer { f in
        for i in 0..<p {
          neighbourhood.fillInputs(
            pixel: i, rows: count, features: f.baseAddress!, featureStride: p * head.features,
            featureCount: head.features, pixels: pixels.baseAddress!, pixelStride: p,
            into: x.baseAddress! + i * d, inputStride: p * d)
        }
      }
    }
    return input
  }
}
