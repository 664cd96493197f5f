import DejaSupport
public import Foundation

/// A learned verifier: logistic regression over ``VerifierFeature``s, giving the probability that
/// a cached prompt's answer serves a new prompt. Replaces the guard's vetoes: a difference in
/// numbers or names lowers the probability by what it has cost on labelled pairs, instead of
/// refusing every candidate that has one, and a very close paraphrase can outweigh it.
///
/// ```swift
/// let model = try VerifierModel.load(path: "models/verifier-minilm.json")
/// let p = model.probability(VerifierFeature.values(query: q, candidate: c, similarity: 0.93,
///                                                  competitor: 0.71, floor: model.floor))
/// ```
///
/// Stored as JSON (`deja tune --train` writes it); Deja ships one per built-in embedder in
/// `models/`. The similarity is the embedder's, so a model serves only the embedder it was trained
/// with (``embedder``).
public struct VerifierModel: Codable, Sendable, Equatable {
    public static let currentFormat = "deja-verifier-v1"

    public var format: String
    /// The identity of the embedder whose similarities it was trained on.
    public var embedder: String
    /// The features it weighs, in the order of ``weights``; features not listed weigh nothing.
    public var features: [VerifierFeature]
    /// Each feature's mean and standard deviation in the training pairs: a feature's value is
    /// standardised before it is weighed.
    public var mean: [Double]
    public var scale: [Double]
    public var weights: [Double]
    public var bias: Double
    /// The lowest similarity worth weighing: candidates below it are not considered, and a
    /// competitor below it counts as it.
    public var floor: Float
    /// The probability `deja tune` recommends as the decision threshold (`cache.threshold`).
    public var threshold: Double
    /// How it was trained and how it did on the pairs held out, for the record.
    public var training: VerifierTraining?

    public init(
        embedder: String, features: [VerifierFeature], mean: [Double], scale: [Double], weights: [Double], bias: Double,
        floor: Float, threshold: Double, training: VerifierTraining? = nil
    ) {
        self.format = Self.currentFormat
        self.embedder = embedder
        self.features = features
        self.mean = mean
        self.scale = scale
        self.weights = weights
        self.bias = bias
        self.floor = floor
        self.threshold = threshold
        self.training = training
    }

    /// The probability for a candidate's feature values (indexed as ``VerifierFeature/allCases``).
    ///
    /// - Complexity: O(features); no allocation.
    public func probability(_ values: [Double]) -> Double {
        var z = bias
        for (i, feature) in features.enumerated() {
            z += weights[i] * (values[feature.index] - mean[i]) / scale[i]
        }
        return 1 / (1 + exp(-z))
    }

    /// The same model with `feature` weighing nothing: the probability then no longer depends on
    /// it, and nothing else changes.
    public func without(_ feature: VerifierFeature) -> VerifierModel {
        guard let i = features.firstIndex(of: feature) else { return self }
        var copy = self
        copy.features.remove(at: i)
        copy.mean.remove(at: i)
        copy.scale.remove(at: i)
        copy.weights.remove(at: i)
        return copy
    }

    /// What is wrong with the model, or `nil`.
    var problem: String? {
        if format != Self.currentFormat { return "format '\(format)' is not \(Self.currentFormat); train it again with deja tune --train" }
        let n = features.count
        if mean.count != n || scale.count != n || weights.count != n {
            return "features, mean, scale and weights must have one entry per feature"
        }
        if scale.contains(where: { !($0 > 0) }) { return "every scale must be above 0" }
        if (mean + weights + [bias]).contains(where: { !$0.isFinite }) { return "every number must be finite" }
        if !(0...1).contains(threshold) { return "threshold must be a probability, got \(threshold)" }
        if !(-1...1).contains(floor) { return "floor must be a similarity between -1 and 1, got \(floor)" }
        return nil
    }

    /// Reads a model file.
    /// - Throws: ``CacheError/invalidConfiguration(_:)`` naming the file and what is wrong.
    public static func load(path: String) throws(CacheError) -> VerifierModel {
        let data: Data
        do { data = try TextFile.data(path) } catch { throw .invalidConfiguration(["cache.verifier.model: \(error.description)"]) }
        let model: VerifierModel
        do {
            model = try JSONDecoder().decode(VerifierModel.self, from: data)
        } catch let error as DecodingError {
            throw .invalidConfiguration(["cache.verifier.model: \(path): \(error.readableDescription)"])
        } catch {
            throw .invalidConfiguration(["cache.verifier.model: \(path): not a verifier model (\(error))"])
        }
        if let problem = model.problem { throw .invalidConfiguration(["cache.verifier.model: \(path): \(problem)"]) }
        return model
    }

    /// The model as pretty JSON, keys sorted, so that a retrained model diffs line by line.
    public var jsonData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// How a verifier was trained, and its scores on the pairs held out from training.
public struct VerifierTraining: Codable, Sendable, Equatable {
    public var pairs: Int
    public var positives: Int
    public var heldOutPairs: Int
    public var seed: UInt64
    public var l2: Double
    /// ROC AUC of the probability on the held-out pairs.
    public var heldOutAUC: Double?
    /// Precision and recall at ``VerifierModel/threshold`` on the held-out pairs.
    public var heldOutPrecision: Double?
    public var heldOutRecall: Double?

    public init(
        pairs: Int, positives: Int, heldOutPairs: Int, seed: UInt64, l2: Double, heldOutAUC: Double? = nil,
        heldOutPrecision: Double? = nil, heldOutRecall: Double? = nil
    ) {
        self.pairs = pairs
        self.positives = positives
        self.heldOutPairs = heldOutPairs
        self.seed = seed
        self.l2 = l2
        self.heldOutAUC = heldOutAUC
        self.heldOutPrecision = heldOutPrecision
        self.heldOutRecall = heldOutRecall
    }

    enum CodingKeys: String, CodingKey {
        case pairs, positives, heldOutPairs = "held_out_pairs", seed, l2, heldOutAUC = "held_out_auc"
        case heldOutPrecision = "held_out_precision", heldOutRecall = "held_out_recall"
    }
}
