import ArgumentParser
import Foundation
import BitsBack
import Model

/// `bbans train`: fits a VAE to a file of images and writes its weights file.
///
/// One line per epoch on stdout (training −ELBO, validation discretized −ELBO, time); the best
/// model by validation (the weights or, with `--average-decay`, their moving average) is written
/// (atomically) each time it improves, so an interrupted run leaves its best weights behind.
/// On a terminal, a line on stderr shows the epoch, its loss so far and the time left.
///
/// The model's name is `--name` or the output file's base name; the name of a built-in model is
/// refused (without `--builtin-name`): an archive records its model's name, and a trained model
/// under a built-in's name could not be told from it by name.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a VAE on a file of images (IDX, NPY or PGM, gzip or not) and write its weights file.")

  @Argument(help: "The training images.") var data: String
  @Option(name: .shortAndLong, help: "The weights file to write.") var output: String
  @Option(help: "bernoulli, beta-binomial or logistic-mixture.") var likelihood = "logistic-mixture"
  @Option(help: "Components of the logistic mixture.") var components = 3
  @Flag(help: "Condition each pixel also on its already-coded neighbours (a causal-context head).") var context = false
  @Option(help: "Per-pixel decoder features of the context head.") var contextFeatures = 2
  @Option(help: ArgumentHelp(
    "Hidden width of the context head's per-pixel network. (default: 32)",
    discussion: "With --start-from a row-summary model, a width above the model's widens its first hidden layer: the new units' outgoing weights start at 0, so training starts at the model's figures."))
  var contextHidden: Int?
  @Option(help: "Neighbours the context head sees, nearest first (6: left, left-left, up-left, up, up-right, up-up; up to 24).")
  var contextNeighbours = ContextHead.defaultNeighbourCount
  @Option(help: ArgumentHelp(
    "Summarise the whole causal past for the context head: S,G (state per column, global per row).",
    discussion: "A recurrent state per column over the rows above, a global vector per row, and moving averages of the current row to the left (docs/MODELS.md). With --start-from a context model without one, the summary is added to it."))
  var rows: String?
  @Option(help: "The row summary's state sees the row above at columns x−k…x+k.") var rowsRadius = 2
  @Option(help: "Moving averages of the current row's values to the left (row summary).") var rowsAverages = 4
  @Option(help: ArgumentHelp(
    "Further hidden layer widths of the context head's per-pixel network, comma-separated (row summary).",
    discussion: "With --start-from a row-summary model (and no --rows), the widths must begin with the model's own deeper layers, and training starts at the model's figures: layers added as wide as the layer before them start as the identity; one layer of another width, at least twice the output layer's, starts as the output layer's product and its negative."))
  var contextDeeper: String?
  @Option(help: ArgumentHelp(
    "The posterior q(z|x): diagonal, householder:K, iaf:K[,H[,C]] or sylvester:K (K steps).",
    discussion: "householder:K: K Householder reflections of the diagonal Gaussian, from the encoder. iaf:K,H,C: K inverse autoregressive steps, each a MADE of H hidden units (default 4 × latents) with C context values from the encoder (default 32). sylvester:K: K triangular Sylvester steps, A and B learned, b from the encoder. Both are coded exactly by bits-back, one dimension at a time (docs/MODELS.md). With --start-from a model with a diagonal posterior, the flow is added to it, starting as the identity (householder: with K even); without --posterior, a flow model goes on with its flow. (default: diagonal)"))
  var posterior: String?
  @Option(help: "Shift each training image by up to N pixels in each direction, anew each epoch (0: none).") var shift = 0
  @Option(help: "KL warm-up: the KL weight rises linearly to 1 over this many epochs.") var klWarmup = 0
  @Option(help: "Hidden layer widths, comma-separated (encoder; the decoder mirrors them).") var hidden = "500,500"
  @Option(help: "The decoder's hidden layer widths from the latents outwards, if not the mirror of --hidden.")
  var decoderHidden: String?
  @Option(help: "Latent dimensions.") var latents = 50
  @Option(help: "Each latent is cut into 2^k buckets of equal prior mass.") var bucketBits = 12
  @Option(help: "Passes over the training images.") var epochs = 10
  @Option(help: "Images per step.") var batchSize = 64
  @Option(help: "Adam's initial learning rate.") var learningRate = 1e-3
  @Option(help: "The learning rate decays per epoch to this fraction of its start.") var finalLearningRate = 0.1
  @Option(help: "Decoupled weight decay on the weights.") var weightDecay = 0.0
  @Option(help: ArgumentHelp(
    "Also keep a moving average of the weights with this decay per step (e.g. 0.999; 0: none).",
    discussion: "Each validation measures both the weights and their average, and the better of the two is kept."))
  var averageDecay = 0.0
  @Option(help: "Seed of the initialisation, shuffles, binarization and noise.") var seed: UInt64 = 0
  @Option(help: "Use the last N training images for validation.") var validation = 0
  @Option(help: "Validate on the images of this file instead.") var validationData: String?
  @Option(help: "Validate (and keep the best model) every N epochs, and after the last.") var validateEvery = 1
  @Option(help: ArgumentHelp(
    "Threads per batch (default: the machine's cores, \(Train.defaultThreads) here).",
    discussion: "The thread count changes the weights: the same seed, data and thread count give the same weights."))
  var threads: Int?
  @Option(help: ArgumentHelp(
    "The model's name (default: the output file's base name); not a built-in model's name.",
    discussion: "Archives made with the model record the name of its weights file (its base name, or the whole file name where that is a built-in model's name)."))
  var name: String?
  @Flag(help: "Allow a built-in model's name (to retrain a built-in model, as scripts/train-models.sh does).")
  var builtinName = false
  @Option(help: ArgumentHelp(
    "Start from this model's weights (a built-in name or a weights file) instead of random ones.",
    discussion: "Its architecture is used and the architecture options are ignored; Adam starts afresh."))
  var startFrom: String?
  @Option(help: ArgumentHelp(
    "Begin at this epoch of the schedule (1 to --epochs), to go on with a run that stopped: with --start-from its best weights.",
    discussion: "The learning rate, the KL warm-up and the epoch's shuffle are those of this epoch in the full run; Adam's moments start afresh."))
  var firstEpoch = 1
  @Flag(name: .shortAndLong, help: "Overwrite the output file.") var force = false

  /// The row summary that --rows, --rows-radius, --rows-averages and --context-deeper ask for.
  var rowSummary: RowSummary? {
    get throws {
      guard let rows else {
        if contextDeeper != nil && startFrom == nil { throw TrainError("--context-deeper needs --rows (or --start-from a row-summary model)") }
        return nil
      }
      let sizes = try Self.widths(rows, "--rows")
      guard sizes.count == 2 else { throw TrainError("--rows takes two widths, S,G, not '\(rows)'") }
      try check("--rows state width", sizes[0], in: 1...256)
      let deeper = try deeperWidths ?? []
      return RowSummary(stateWidth: sizes[0], globalWidth: sizes[1], radius: rowsRadius, averages: rowsAverages, deeper: deeper)
    }
  }

  /// The widths that --context-deeper names, checked, or nil without it.
  var deeperWidths: [Int]? {
    get throws {
      guard let contextDeeper else { return nil }
      let deeper = try Self.widths(contextDeeper, "--context-deeper")
      guard deeper.count <= 8, deeper.allSatisfy({ $0 <= 1024 }) else {
        throw TrainError("--context-deeper takes at most 8 widths of at most 1024")
      }
      return deeper
    }
  }

  /// The posterior that --posterior names.
  var posteriorKind: Posterior {
    get throws {
      let parts = (posterior ?? "diagonal").split(separator: ":", maxSplits: 1).map(String.init)
      let kind = parts[0]
      let sizes = try parts.count > 1 ? Self.widths(parts[1], "--posterior \(kind):") : []
      switch (kind, sizes.count) {
      case ("diagonal", 0): return .diagonal
      case ("householder", 1):
        try check("--posterior householder: steps", sizes[0], in: 1...16)
        return .householder(steps: sizes[0])
      case ("sylvester", 1):
        try check("--posterior sylvester: steps", sizes[0], in: 1...16)
        return .sylvester(steps: sizes[0])
      case ("iaf", 1...3):
        try check("--posterior iaf: steps", sizes[0], in: 1...16)
        let hidden = sizes.count > 1 ? sizes[1] : 4 * latents, contextValues = sizes.count > 2 ? sizes[2] : 32
        try check("--posterior iaf: hidden units", hidden, in: 1...4096)
        try check("--posterior iaf: context values", contextValues, in: 0...1024)
        return .iaf(steps: sizes[0], hidden: hidden, context: contextValues)
      default:
        throw TrainError("--posterior is diagonal, householder:K, iaf:K[,H[,C]] or sylvester:K, not '\(posterior ?? "")'")
      }
    }
  }

  func validate() throws {
    try check("--components", components, in: 1...Likelihood.maxComponents)
    try check("--latents", latents, in: 1...4096)
    try check("--bucket-bits", bucketBits, in: 1...16)
    try check("--epochs", epochs, in: OptionLimits.epochs)
    try check("--batch-size", batchSize, in: OptionLimits.batchSize)
    if let threads { try check("--threads", threads, in: OptionLimits.threads) }
    try check("--validate-every", validateEvery, in: OptionLimits.epochs)
    try check("--first-epoch", firstEpoch, in: 1...epochs)
    if firstEpoch > 1 && startFrom == nil { throw TrainError("--first-epoch needs --start-from (the weights of the run it goes on with)") }
    try check("--kl-warmup", klWarmup, in: 0...OptionLimits.epochs.upperBound)
    try check("--validation", validation, in: OptionLimits.validationImages)
    try check("--context-features", contextFeatures, in: 1...64)
    try check("--context-hidden", contextHidden ?? 32, in: 1...1024)
    try check("--context-neighbours", contextNeighbours, in: 1...ContextHead.neighbourOrder.count)
    try check("--rows-radius", rowsRadius, in: 0...8)
    _ = try posteriorKind
    try check("--rows-averages", rowsAverages, in: 0...16)
    try check("--shift", shift, in: 0...8)
    _ = try rowSummary
    _ = try Self.widths(hidden, "--hidden")
    if let decoderHidden { _ = try Self.widths(decoderHidden, "--decoder-hidden") }
    try check("--learning-rate", learningRate, from: 0, included: false, to: 1, included: true)
    try check("--final-learning-rate", finalLearningRate, from: 0, included: false, to: 1, included: true)
    try check("--weight-decay", weightDecay, from: 0, included: true, to: 1, included: true)
    try check("--average-decay", averageDecay, from: 0, included: true, to: 1, included: false)
  }

  /// Hidden layer widths from "500,500": each in `OptionLimits.hiddenWidth`, at most
  /// `OptionLimits.hiddenLayers` of them.
  static func widths(_ text: String, _ option: String) throws -> [Int] {
    let sizes = text.split(separator: ",", omittingEmptySubsequences: false)
      .map { Int($0.trimmingCharacters(in: .whitespaces)) }
    let limits = OptionLimits.hiddenWidth
    guard !sizes.isEmpty, sizes.count <= OptionLimits.hiddenLayers, sizes.allSatisfy({ $0.map(limits.contains) ?? false }) else {
      throw OptionError("\(option) must be 1 to \(OptionLimits.hiddenLayers) widths in \(limits.lowerBound)...\(limits.upperBound) separated by commas (got '\(text)')")
    }
    return sizes.map { $0! }
  }

  /// The default of `--threads`: the machine's cores, within `OptionLimits.threads`.
  static var defaultThreads: Int {
    min(max(ProcessInfo.processInfo.activeProcessorCount, OptionLimits.threads.lowerBound), OptionLimits.threads.upperBound)
  }

  var threadCount: Int { threads ?? Self.defaultThreads }

  /// The model's name: `--name`, or the output file's base name.
  var modelName: String { Self.modelName(name, output: output) }

  /// `name`, or else the base name of the file `output`.
  static func modelName(_ name: String?, output: String) -> String {
    name ?? URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
  }

  /// Refuses an empty name, and a built-in model's name (current or retired) unless
  /// `--builtin-name` allows it.
  func checkName() throws {
    try Self.checkName(modelName, given: name != nil, builtinName: builtinName)
  }

  /// The check of `checkName` for a name given with --name (`given`) or taken from the output
  /// file's, by `train` or `convert`.
  static func checkName(_ modelName: String, given: Bool, builtinName: Bool) throws {
    guard !modelName.isEmpty else {
      throw TrainError("the model needs a name: give --name or an output file name with a base name")
    }
    if !builtinName && (ModelRegistry.builtinNames + ModelRegistry.retiredNames).contains(modelName) {
      let source = given ? "given with --name" : "from the output file's name"
      throw TrainError("the model's name '\(modelName)' (\(source)) is a built-in model's; choose another with --name, or another output file name")
    }
  }

  func run() throws {
    do { try train() } catch let error as TrainError {
      FileHandle.standardError.write(Data("bbans: error: \(error.message)\n".utf8))
      throw ExitCode.failure
    } catch let error as ModelError {
      FileHandle.standardError.write(Data("bbans: error: \(error)\n".utf8))
      throw ExitCode.failure
    }
  }

  private func train() throws {
    try checkName()
    let threads = threadCount
    if FileManager.default.fileExists(atPath: output) && !force {
      throw TrainError("\(output) exists; use -f to overwrite it")
    }
    var head: Likelihood
    switch likelihood {
    case "bernoulli": head = .bernoulli
    case "beta-binomial": head = .betaBinomial
    case "logistic-mixture": head = .logisticMixture(components: components)
    default: throw TrainError("unknown likelihood '\(likelihood)': use bernoulli, beta-binomial or logistic-mixture")
    }
    var start: VAE?
    if let startFrom {
      do { start = try ModelRegistry.model(namedOrPath: startFrom).vae } catch BitsBackError.invalidModelFile(let path, let reason) {
        throw TrainError("cannot start from \(path): \(reason)")
      } catch {
        throw TrainError("cannot start from \(startFrom): \(error)")
      }
      head = start!.architecture.likelihood
    }
    let hiddenSizes = try Self.widths(hidden, "--hidden")
    let decoderSizes = try decoderHidden.map { try Self.widths($0, "--decoder-hidden") } ?? hiddenSizes.reversed()
    var images = try TrainingImages.load(path: data)
    var validationImages: TrainingImages
    if let validationData {
      validationImages = try TrainingImages.load(path: validationData)
      guard validationImages.shape == images.shape else {
        throw TrainError("the validation images are \(validationImages.shape) but the training images are \(images.shape)")
      }
    } else {
      guard validation < images.count else {
        throw TrainError("--validation \(validation) leaves no training images out of \(images.count)")
      }
      validationImages = images.suffix(validation)
      images = images.prefix(images.count - validation)
    }
    let binaryData = images.pixels.allSatisfy { $0 <= 1 }
    if binaryData && !head.isBinary {
      throw TrainError("the data hold only the values 0 and 1; an 8-bit likelihood does not fit them, use --likelihood bernoulli")
    }
    if head.isBinary {
      // Stochastic binarization draws 1 with probability v/255: data already 0/1 stay as they are.
      if binaryData { images.pixels = images.pixels.map { $0 * 255 } }
      validationImages.binarize(seed: 0x5EED_B1A5, alreadyBinary: binaryData)
    }
    var architecture = Architecture(
      height: images.shape.height, width: images.shape.width, channels: images.shape.channels,
      encoderHidden: hiddenSizes, decoderHidden: decoderSizes,
      latentCount: latents, bucketBits: bucketBits, likelihood: head,
      context: context ? ContextHead(features: contextFeatures, hidden: contextHidden ?? 32, neighbourCount: contextNeighbours) : nil)
    let summaryOfRows = try rowSummary
    if summaryOfRows != nil && start == nil {
      guard context else { throw TrainError("--rows needs --context (the row summary is part of the context head)") }
      architecture.context?.rows = summaryOfRows
    }
    if let startModel = start, let startFrom {
      let a = startModel.architecture
      guard (a.height, a.width, a.channels) == (images.shape.height, images.shape.width, images.shape.channels) else {
        throw TrainError("\(startFrom) is a model of \(a.height)×\(a.width)×\(a.channels) images, but the data are \(images.shape)")
      }
      if let summaryOfRows {
        guard let head = a.context, head.rows == nil else {
          throw TrainError("--rows with --start-from needs a model with a context head and no row summary; \(startFrom) has \(a.context?.rows == nil ? "no context head" : "one already")")
        }
        var upgraded = a
        upgraded.context?.rows = summaryOfRows
        if let problem = upgraded.problem { throw TrainError("cannot build this model: \(problem)") }
        start = startModel.addingRowSummary(summaryOfRows, seed: seed)
      } else if let deeper = try deeperWidths {
        guard let rows = a.context?.rows else {
          throw TrainError("--context-deeper with --start-from needs a row-summary model (or --rows); \(startFrom) has \(a.context == nil ? "no context head" : "no row summary")")
        }
        let last = rows.deeper.last ?? a.context!.hidden, p = a.likelihood.parametersPerPixel
        let added = deeper.dropFirst(rows.deeper.count)
        guard deeper.starts(with: rows.deeper), !added.isEmpty,
              added.allSatisfy({ $0 == last }) || (added.count == 1 && added.first! >= 2 * p) else {
          throw TrainError("--context-deeper \(contextDeeper ?? "") with --start-from: \(startFrom)'s deeper layers are \(rows.deeper.isEmpty ? "none" : rows.deeper.map(String.init).joined(separator: ",")), and the widths must begin with them and add layers \(last) wide, or one layer at least \(2 * p) wide")
        }
        start = startModel.addingDeeperLayers(deeper, seed: seed)
      }
      if let contextHidden, let head = start!.architecture.context, contextHidden != head.hidden {
        guard head.rows != nil else {
          throw TrainError("--context-hidden \(contextHidden) with --start-from: \(startFrom) has no row summary, and only a row-summary model's context network can be widened")
        }
        guard contextHidden > head.hidden else {
          throw TrainError("--context-hidden \(contextHidden) with --start-from: \(startFrom)'s context network is \(head.hidden) wide, and it can be widened, not narrowed")
        }
        start = start!.addingHiddenUnits(width: contextHidden, seed: seed)
      }
      let kind = try posteriorKind
      if posterior != nil && kind == .diagonal && a.posterior.isFlow {
        throw TrainError("--posterior diagonal with --start-from: \(startFrom) has \(a.posterior.description), and a flow is not taken out of a model (leave --posterior out to go on with it)")
      }
      if kind.isFlow && kind != a.posterior {
        guard a.posterior == .diagonal else {
          throw TrainError("--posterior \(posterior ?? "") with --start-from needs a model with a diagonal posterior; \(startFrom) has \(a.posterior.description)")
        }
        var upgraded = start!.architecture
        upgraded.posterior = kind
        if let problem = upgraded.problem { throw TrainError("cannot build this model: \(problem)") }
        start = start!.addingPosterior(kind, seed: seed)
      }
      architecture = start!.architecture
    } else {
      architecture.posterior = try posteriorKind
    }
    if let problem = architecture.problem { throw TrainError("cannot build this model: \(problem)") }
    var options = TrainingOptions()
    options.batchSize = batchSize
    options.learningRate = learningRate
    options.finalLearningRateFraction = finalLearningRate
    options.weightDecay = weightDecay
    options.epochs = epochs
    options.seed = seed
    options.threads = threads
    options.klWarmupEpochs = klWarmup
    options.averageDecay = averageDecay
    options.shift = shift
    let modelName = modelName
    let summary = start?.summary ?? "\(([architecture.pixelCount] + architecture.encoderHidden + [latents]).map(String.init).joined(separator: "-")) VAE, "
      + "\(architecture.headName)\(head.parametersPerPixel > 2 ? " (\(components))" : "")"
      + "\(context ? " [\(contextFeatures) features, \(contextHidden ?? 32) hidden]" : ""), trained by bbans train on \(URL(fileURLWithPath: data).lastPathComponent)"
    print("bbans train: \(images.count) training and \(validationImages.count) validation images of \(images.shape), "
      + "\(architecture.parameterCount) parameters, \(architecture.headName), \(threads) threads")
    fflush(stdout)
    var trainer = start.map { Trainer(starting: $0, options: options) } ?? Trainer(architecture: architecture, options: options)
    var best: NegativeELBO?
    let progress = TrainingProgress(epochs: epochs, firstEpoch: firstEpoch - 1, imagesPerEpoch: images.count)
    let started = Date()
    for epoch in (firstEpoch - 1)..<epochs {
      let epochStart = Date()
      let trainFigures = images.pixels.withUnsafeBufferPointer {
        trainer.trainEpoch(pixels: $0, count: images.count, epoch: epoch, lossProgress: { done, soFar in
          progress.update(epoch: epoch, done: done, loss: soFar.total)
        })
      }
      progress.finish()
      let trainTime = Date().timeIntervalSince(epochStart)
      var line = String(format: "epoch %3d/%d  lr %.2e  train %.4f bits/dim", epoch + 1, epochs,
                        trainer.learningRate(epoch: epoch), trainFigures.total)
      // The weights and, with --average-decay, their moving average: without validation images
      // the average (when kept) is what is saved; with them, the better of the two.
      let unmeasured = NegativeELBO(reconstruction: 0, kl: 0)
      let weights = trainer.model(name: modelName, summary: summary, figures: unmeasured)
      let average = trainer.averagedModel(name: modelName, summary: summary, figures: unmeasured)
      var model = validationImages.count == 0 ? average ?? weights : weights
      var improved = validationImages.count == 0
      let validating = (epoch + 1) % validateEvery == 0 || epoch == epochs - 1
      if validationImages.count > 0 && validating {
        func measure(_ candidate: VAE) -> NegativeELBO {
          validationImages.pixels.withUnsafeBufferPointer {
            candidate.discretizedNegativeELBO(pixels: $0, count: validationImages.count, seed: 1, threads: threads)
          }
        }
        var figures = measure(weights)
        if let average {
          let averageFigures = measure(average)
          line += String(format: "  validation %.4f, average %.4f", figures.total, averageFigures.total)
          let averaged = averageFigures.total < figures.total
          if averaged { (figures, model) = (averageFigures, average) }
          line += String(format: " (%@: reconstruction %.4f + KL %.4f)", averaged ? "average" : "weights",
                         figures.reconstruction, figures.kl)
        } else {
          line += String(format: "  validation %.4f (reconstruction %.4f + KL %.4f)", figures.total, figures.reconstruction, figures.kl)
        }
        if best == nil || figures.total < best!.total {
          best = figures
          improved = true
          // A figure that overflowed is not recorded: a weights file holds only finite numbers.
          model = model.with(figures: figures.reconstruction.isFinite && figures.kl.isFinite ? figures : unmeasured)
        }
      }
      line += String(format: "  %.1f s + %.1f s", trainTime, Date().timeIntervalSince(epochStart) - trainTime)
      if improved && (validating || validationImages.count == 0) {
        if let problem = model.nonFiniteValue {
          throw TrainError("training diverged in epoch \(epoch + 1): \(problem), so it was not written (a lower --learning-rate may help)")
        }
        try Self.writeAtomically(model.serialized(), to: output)
        line += "  saved"
      }
      print(line)
      fflush(stdout)  // each epoch's line reaches a log or a pipe when it is made
      fflush(stdout)
    }
    print(String(format: "bbans train: %.1f s in all; best validation %@; wrote %@", Date().timeIntervalSince(started),
                 best.map { String(format: "%.4f bits/dim", $0.total) } ?? "none", output))
  }

  /// Writes to a temporary file beside `path`, then renames it over `path` (`train`, `convert`).
  static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
      throw TrainError("cannot write \(temporary)")
    }
    guard rename(temporary, path) == 0 else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw TrainError("cannot rename \(temporary) to \(path)")
    }
  }
}

/// A one-sentence failure of `bbans train`.
struct TrainError: Error, CustomStringConvertible {
  let message: String
  init(_ message: String) { self.message = message }
  /// What the one-line error says, also when thrown from `validate()` (before `run`).
  var description: String { message }
}

/// The progress of a training run on stderr, drawn only when stderr is a terminal: the epoch,
/// the share of it done, the epoch's training loss so far, and the time left for the whole
/// run (from the time the images done so far took, validations included):
/// `epoch 3/10 [#########.....................]  31%  loss 1.2345 bits/dim  12m 05s left`.
final class TrainingProgress {
  let epochs: Int
  /// The first epoch this run trains (from 0; `--first-epoch` − 1): the time left counts from it.
  let firstEpoch: Int
  let imagesPerEpoch: Int
  let enabled: Bool
  private let started = Date()
  private var lastDrawn = Date.distantPast

  init(epochs: Int, firstEpoch: Int = 0, imagesPerEpoch: Int, enabled: Bool = isatty(2) != 0) {
    self.epochs = epochs
    self.firstEpoch = firstEpoch
    self.imagesPerEpoch = imagesPerEpoch
    self.enabled = enabled
  }

  /// Redraws the line at most 10 times a second, and at the end of each epoch.
  func update(epoch: Int, done: Int, loss: Double) {
    guard enabled else { return }
    let now = Date()
    guard done >= imagesPerEpoch || now.timeIntervalSince(lastDrawn) >= 0.1 else { return }
    lastDrawn = now
    let line = Self.line(epoch: epoch, epochs: epochs, done: done, imagesPerEpoch: imagesPerEpoch, loss: loss,
                         elapsed: now.timeIntervalSince(started), firstEpoch: firstEpoch)
    FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
  }

  /// The line for `done` images of epoch `epoch` (from 0) after `elapsed` seconds of the run.
  /// `firstEpoch`: the first epoch the run trains (it counts the time left from there).
  static func line(
    epoch: Int, epochs: Int, done: Int, imagesPerEpoch: Int, loss: Double, elapsed: Double, firstEpoch: Int = 0
  ) -> String {
    let total = Double(epochs - firstEpoch) * Double(max(imagesPerEpoch, 1))
    let finished = Double(epoch - firstEpoch) * Double(max(imagesPerEpoch, 1)) + Double(done)
    let percent = min(100, done * 100 / max(imagesPerEpoch, 1))
    let filled = percent * 30 / 100
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
    var text = "epoch \(epoch + 1)/\(epochs) [\(bar)] \(String(format: "%3d", percent))%  loss "
      + (loss.isFinite ? String(format: "%.4f", loss) : "\(loss)") + " bits/dim"
    if finished > 0 && elapsed > 0 {
      text += "  " + duration(elapsed / finished * max(0, total - finished)) + " left"
    }
    return text
  }

  /// "45s", "12m 05s", "3h 04m".
  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
    return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60)
  }

  /// Clears the line (before the epoch's line on stdout).
  func finish() {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}

/// The images `bbans train` reads: IDX, NPY or PGM files of unsigned bytes (gzip or not),
/// through the library's readers.
struct TrainingImages {
  var shape: (height: Int, width: Int, channels: Int)
  var count: Int
  var pixels: [UInt8]

  var imageSize: Int { shape.height * shape.width * shape.channels }

  static func load(path: String) throws -> TrainingImages {
    let images: ImageBatch
    do {
      images = try DatasetFile.loadImages(path: path)
    } catch let error as IOError {
      throw TrainError("\(error)")
    }
    return TrainingImages(shape: (images.height, images.width, images.channels), count: images.count, pixels: images.pixels)
  }

  func prefix(_ n: Int) -> TrainingImages {
    TrainingImages(shape: shape, count: n, pixels: Array(pixels[0..<(n * imageSize)]))
  }

  func suffix(_ n: Int) -> TrainingImages {
    TrainingImages(shape: shape, count: n, pixels: Array(pixels[((count - n) * imageSize)...]))
  }

  /// The images of the file `path` for the model called `model`, of architecture `a`: refused
  /// unless they have its shape and there is at least one (`evaluate`, `convert`).
  static func load(path: String, for a: Architecture, model: String) throws -> TrainingImages {
    let images = try load(path: path)
    guard images.shape == (a.height, a.width, a.channels) else {
      throw TrainError("\(model) is a model of \(a.height)×\(a.width)×\(a.channels) images, but \(path) holds \(images.shape.height)×\(images.shape.width)×\(images.shape.channels) images")
    }
    guard images.count > 0 else { throw TrainError("\(path) holds no images") }
    return images
  }

  /// For a Bernoulli model, these images as `bbans train` validates on them: binarized once
  /// with its validation seed (images already 0/1 stay as they are); others unchanged.
  mutating func binarizeForValidation(_ a: Architecture) {
    if a.likelihood.isBinary { binarize(seed: 0x5EED_B1A5, alreadyBinary: pixels.allSatisfy { $0 <= 1 }) }
  }

  /// Stochastic binarization once, with a fixed seed: 1 with probability v/255.
  mutating func binarize(seed: UInt64, alreadyBinary: Bool) {
    if alreadyBinary { return }
    var state = seed
    pixels = pixels.map { v in
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let u = Double(state >> 11) * 0x1p-53
      return u * 255 < Double(v) ? 1 : 0
    }
  }
}
