public import Embedding
import Foundation

/// Two prompts and whether one's answer may serve the other: a line of `fixtures/pairs.jsonl`.
public struct LabelledPair: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var same: Bool
    /// An optional label for the kind of pair (paraphrase, numbers, negation, entity, order, ...).
    public var kind: String?

    public init(a: String, b: String, same: Bool, kind: String? = nil) {
        self.a = a
        self.b = b
        self.same = same
        self.kind = kind
    }

    /// Reads a JSONL file of pairs: `{"a", "b", "same": true|false}` per line, optionally with
    /// `kind`. Lines with `"same": null` (written by `cache.pairs_log`, not labelled yet) are
    /// counted and left out; with `model`, so are lines whose `model` field names another model.
    ///
    /// - Throws: ``CacheError/labelledPairs(_:)`` naming the file and line that is wrong, or
    ///   saying that no line is labelled yet.
    public static func read(jsonl path: String, model: String? = nil) throws(CacheError) -> LabelledPairsFile {
        let text: String
        do { text = try TextFile.read(path) } catch { throw .labelledPairs(error.description) }
        var file = LabelledPairsFile()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parsed: _PairLine
            do {
                parsed = try JSONDecoder().decode(_PairLine.self, from: Data(trimmed.utf8))
            } catch {
                throw .labelledPairs("\(path):\(number + 1): expected {\"a\": ..., \"b\": ..., \"same\": true|false}")
            }
            if let model, let lineModel = parsed.model, lineModel != model {
                file.otherModels += 1
            } else if let same = parsed.same {
                file.pairs.append(LabelledPair(a: parsed.a, b: parsed.b, same: same, kind: parsed.kind))
            } else {
                file.unlabelled += 1
            }
        }
        guard !file.pairs.isEmpty else {
            if file.unlabelled > 0 {
                throw .labelledPairs(
                    "\(path) holds no labelled pairs yet: set \"same\" to true or false on some of its \(file.unlabelled) lines")
            }
            throw .labelledPairs("\(path) holds no pairs" + (model.map { " for model \($0)" } ?? ""))
        }
        return file
    }

    /// ``read(jsonl:model:)``'s pairs.
    public static func load(jsonl path: String) throws(CacheError) -> [LabelledPair] {
        try read(jsonl: path).pairs
    }
}

/// The pairs of a JSONL file, and the lines left out.
public struct LabelledPairsFile: Sendable {
    public var pairs: [LabelledPair] = []
    /// Lines with `"same": null`, waiting for a label.
    public var unlabelled = 0
    /// Lines of other models than the one asked for.
    public var otherModels = 0
}

/// A line as written: `same` may be null (not labelled yet), and the pairs log adds fields,
/// of which `model` is read.
private struct _PairLine: Decodable {
    var a: String
    var b: String
    var same: Bool?
    var kind: String?
    var model: String?

    enum CodingKeys: String, CodingKey { case a, b, same, kind, model }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        a = try c.decode(String.self, forKey: .a)
        b = try c.decode(String.self, forKey: .b)
        // Present, true, false or null; a missing label is a mistake in the file, not a pair to label.
        guard c.contains(.same) else {
            throw DecodingError.keyNotFound(CodingKeys.same, .init(codingPath: [], debugDescription: "no same"))
        }
        same = try c.decodeIfPresent(Bool.self, forKey: .same)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        model = try c.decodeIfPresent(String.self, forKey: .model)
    }
}

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

/// Measures how well a threshold separates prompts that may share an answer from those that
/// may not, for "b hits a": the cache holds `a`, the query is `b`, and `b` hits when their
/// similarity reaches the threshold and the false-positive guard lets the pair through.
public enum ThresholdTuner {
    public static func evaluate(
        pairs: [LabelledPair], embedder: any Embedder, guardChecks: GuardConfiguration?, targetPrecision: Double = 0.95,
        step: Float = 0.01
    ) async throws(CacheError) -> TuningReport {
        var texts: [String] = []
        texts.reserveCapacity(pairs.count * 2)
        for p in pairs { texts += [p.a, p.b] }
        let vectors: [[Float]]
        do { vectors = try await embedder.embed(texts) } catch { throw .embedding(error) }
        let guardrail = guardChecks.map { FalsePositiveGuard(configuration: $0) }
        var scores: [(score: Float, same: Bool)] = []
        var pairScores: [PairScore] = []
        var rejections = 0
        var rejectedPositives = 0
        for (i, pair) in pairs.enumerated() {
            var similarity: Float = 0
            let a = vectors[2 * i], b = vectors[2 * i + 1]
            for d in a.indices { similarity += a[d] * b[d] }
            let rejection = guardrail?.check(query: PromptFeatures(pair.b), candidate: PromptFeatures(pair.a))
            pairScores.append(PairScore(pair: pair, similarity: similarity, rejection: rejection?.description))
            if rejection != nil {
                rejections += 1
                if pair.same { rejectedPositives += 1 }
                similarity = -2
            }
            scores.append((similarity, pair.same))
        }
        let positives = pairs.filter(\.same).count
        var rows: [ThresholdRow] = []
        var t: Float = 0
        while t <= 1.0001 {
            var tp = 0, fp = 0
            for s in scores where s.score >= t {
                if s.same { tp += 1 } else { fp += 1 }
            }
            let fn = positives - tp
            let precision = tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp)
            let recall = positives == 0 ? 0 : Double(tp) / Double(positives)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            rows.append(ThresholdRow(
                threshold: (t * 1000).rounded() / 1000, truePositives: tp, falsePositives: fp, falseNegatives: fn,
                precision: precision, recall: recall, f1: f1))
            t += step
        }
        let recommended = rows.filter { $0.precision >= targetPrecision && $0.truePositives > 0 }
            .max { ($0.recall, $0.threshold) < ($1.recall, $1.threshold) }
        let bestF1 = rows.max { ($0.f1, $0.threshold) < ($1.f1, $1.threshold) }
        return TuningReport(
            scores: pairScores, embedder: embedder.identity, pairs: pairs.count, positives: positives, guardEnabled: guardChecks != nil,
            guardRejections: rejections, guardRejectedPositives: rejectedPositives, auc: auc(scores),
            targetPrecision: targetPrecision, recommended: recommended, bestF1: bestF1, rows: rows)
    }

    /// ROC AUC as the Mann–Whitney statistic: the chance that a random positive scores above a
    /// random negative (ties count half).
    static func auc(_ scores: [(score: Float, same: Bool)]) -> Double {
        let sorted = scores.sorted { $0.score < $1.score }
        var rankSum = 0.0
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1].score == sorted[i].score { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where sorted[k].same { rankSum += rank }
            i = j + 1
        }
        let p = Double(scores.filter(\.same).count)
        let n = Double(scores.count) - p
        guard p > 0, n > 0 else { return 0.5 }
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }
}
