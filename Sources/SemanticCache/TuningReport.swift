public import Embedding
import Foundation

/// One threshold's outcome on the labelled pairs.
public struct ThresholdRow: Sendable, Codable, Equatable {
    public var threshold: Float
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    public var precision: Double
    public var recall: Double
    public var f1: Double

    enum CodingKeys: String, CodingKey {
        case threshold, truePositives = "tp", falsePositives = "fp", falseNegatives = "fn", precision, recall, f1
    }
}

/// How one pair scored.
public struct PairScore: Sendable, Codable, Equatable {
    public var pair: LabelledPair
    public var similarity: Float
    /// The guard's reason to refuse the pair, if it did.
    public var rejection: String?
}

/// What `deja tune` reports.
public struct TuningReport: Sendable, Codable {
    public var scores: [PairScore]
    public var embedder: String
    public var pairs: Int
    public var positives: Int
    public var guardEnabled: Bool
    /// Pairs the guard refused (of which labelled `same`).
    public var guardRejections: Int
    public var guardRejectedPositives: Int
    /// Area under the ROC curve of the hit score (similarity, or -2 when the guard refuses).
    public var auc: Double
    public var targetPrecision: Double
    /// The threshold with the best recall among those reaching the target precision.
    public var recommended: ThresholdRow?
    /// The threshold with the best F1.
    public var bestF1: ThresholdRow?
    public var rows: [ThresholdRow]

    enum CodingKeys: String, CodingKey {
        case embedder, pairs, positives, guardEnabled = "guard", guardRejections = "guard_rejections"
        case guardRejectedPositives = "guard_rejected_positives", auc, targetPrecision = "target_precision"
        case recommended, bestF1 = "best_f1", rows, scores
    }
}
