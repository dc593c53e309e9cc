import ANS

/// Bits-back coding of a latent-variable model (Townsend, Bird and Barber, "Practical lossless
/// compression with latent variables using bits back coding", ICLR 2019).
///
/// A datum x is pushed with the help of a latent z: the posterior q(z|x) *decodes* z from the
/// message (taking −log q(z|x) bits off it), then x and z are pushed with the likelihood p(x|z)
/// and the prior p(z). The net cost is log q(z|x) − log p(x|z) − log p(z), whose mean is the
/// negative ELBO. Pop runs the same steps backwards and gives the posterior's bits back.
///
/// The three codecs are lane-batched (craystack's design): each step codes a value for every lane
/// of a block at once, so that a network runs once for all of them. This is the path that
/// `bbans` codes its chunks with: its posterior, likelihood and prior are ``LaneBatchedCodec``s over
/// the lanes of a step. The initializer over `Codec`s puts one of them on each lane (``Lanewise``),
/// and ``OneLane`` turns a bits-back codec into a `Codec` of one lane.
public struct BitsBack<Prior: LaneBatchedCodec, Likelihood: LaneBatchedCodec, Posterior: LaneBatchedCodec>: LaneBatchedCodec
where Posterior.Symbol == Prior.Symbol {
  public typealias Latent = Prior.Symbol
  public typealias Symbol = Likelihood.Symbol

  public let prior: Prior
  public let likelihood: (Latent) -> Likelihood
  public let posterior: (Symbol) -> Posterior

  /// - Parameters:
  ///   - prior: p(z).
  ///   - likelihood: z ↦ p(x|z).
  ///   - posterior: x ↦ q(z|x).
  public init(prior: Prior, likelihood: @escaping (Latent) -> Likelihood, posterior: @escaping (Symbol) -> Posterior) {
    self.prior = prior
    self.likelihood = likelihood
    self.posterior = posterior
  }

  @inlinable
  public func push(_ x: Symbol, onto message: inout ANSMessage, lanes: Range<Int>) {
    // Pop z with the posterior: z ~ q(z|x), paid for by the bits already on the message.
    let z = posterior(x).pop(from: &message, lanes: lanes)
    // Push x with the likelihood p(x|z).
    likelihood(z).push(x, onto: &message, lanes: lanes)
    // Push z with the prior p(z).
    prior.push(z, onto: &message, lanes: lanes)
  }

  @inlinable
  public func pop(from message: inout ANSMessage, lanes: Range<Int>) -> Symbol {
    // Pop z with the prior.
    let z = prior.pop(from: &message, lanes: lanes)
    // Pop x with the likelihood p(x|z).
    let x = likelihood(z).pop(from: &message, lanes: lanes)
    // Push z with the posterior q(z|x): the bits the encoder took come back.
    posterior(x).push(z, onto: &message, lanes: lanes)
    return x
  }
}

extension BitsBack {
  /// Bits-back over codecs of one lane each: on a block of lanes, lane r codes datum r with the
  /// prior, its own likelihood p(x|z_r) and its own posterior q(z|x_r).
  public init<P: Codec, L: Codec, Q: Codec>(
    prior: P, likelihood: @escaping (P.Symbol) -> L, posterior: @escaping (L.Symbol) -> Q
  ) where Prior == Lanewise<P>, Likelihood == Lanewise<L>, Posterior == Lanewise<Q>, Q.Symbol == P.Symbol {
    self.init(
      prior: Lanewise(prior),
      likelihood: { z in Lanewise(perLane: z.map(likelihood)) },
      posterior: { x in Lanewise(perLane: x.map(posterior)) })
  }
}
