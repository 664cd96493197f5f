public import Embedding
import Foundation

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
    public static func auc(_ scores: [(score: Float, same: Bool)]) -> Double {
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
