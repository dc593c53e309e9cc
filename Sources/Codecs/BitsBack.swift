import ANS

/// Bits-back coding of a latent-variable model (Townsend, Bird and Barber, "Practical lossless
/// compression with latent variables using bits back coding", ICLR 2019).
///
/// A datum x is pushed with the help of a latent z: the posterior q(z|x) *decodes* z from the
/// message (taking −log q(z|x) bits off it), then x and z are pushed with the likelihood p(x|z)
/// and the prior p(z). The net cost is log q(z|x) − log p(x|z) − log p(z), whose mean is the
/// negative ELBO. Pop runs the same steps backwards and gives the posterior's bits back.
public struct BitsBack<Prior: Codec, Likelihood: Codec, Posterior: Codec>: Codec
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

  public func push(_ x: Symbol, onto message: inout ANSMessage, lane: Int) {
    // Pop z with the posterior: z ~ q(z|x), paid for by the bits already on the message.
    let z = posterior(x).pop(from: &message, lane: lane)
    // Push x with the likelihood p(x|z).
    likelihood(z).push(x, onto: &message, lane: lane)
    // Push z with the prior p(z).
    prior.push(z, onto: &message, lane: lane)
  }

  public func pop(from message: inout ANSMessage, lane: Int) -> Symbol {
    // Pop z with the prior.
    let z = prior.pop(from: &message, lane: lane)
    // Pop x with the likelihood p(x|z).
    let x = likelihood(z).pop(from: &message, lane: lane)
    // Push z with the posterior q(z|x): the bits the encoder took come back.
    posterior(x).push(z, onto: &message, lane: lane)
    return x
  }
}
