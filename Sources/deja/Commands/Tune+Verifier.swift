import ArgumentParser
import DejaSupport
import Embedding
import Foundation
import Gateway
import SemanticCache

extension Deja.Tune {
    /// `deja tune PAIRS` with a verifier: the pairs as one cache, each pair judged by the
    /// verifier's probability.
    func evaluateVerifier(
        _ model: VerifierModel, _ configuration: DejaConfiguration, embedder: any Embedder, file: LabelledPairsFile
    ) async throws {
        let pairsInCache = try await PairsInCache.build(file.pairs, embedder: embedder, candidates: configuration.cache.candidates)
        let configured = configuration.effectiveCache.threshold(
            model: self.model ?? "", label: self.model.map { "-/\($0)" } ?? "-", fallback: Float(model.threshold))
        let evaluation = VerifierTuner.evaluate(model, on: pairsInCache, threshold: Double(configured))
        let recommended = evaluation.rows.filter { $0.precision >= precision && $0.truePositives > 0 }
            .max { ($0.recall, $0.threshold) < ($1.recall, $1.threshold) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Output: Encodable {
                var embedder: String
                var verifier: String
                var pairs: Int
                var positives: Int
                var configured: Float
                var recommended: ThresholdRow?
                var evaluation: VerifierTuner.Evaluation
            }
            let output = Output(
                embedder: embedder.identity, verifier: verifier ?? configuration.cache.verifier.model, pairs: file.pairs.count,
                positives: file.pairs.filter(\.same).count, configured: configured, recommended: recommended, evaluation: evaluation)
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            var skipped: [String] = []
            if file.unlabelled > 0 { skipped.append("\(file.unlabelled) not labelled yet (same: null)") }
            if file.otherModels > 0 { skipped.append("\(file.otherModels) of other models than \(self.model ?? "")") }
            if !skipped.isEmpty { print("left out: " + skipped.joined(separator: ", ")) }
            print(Self.verifierTable(
                evaluation, pairs: pairsInCache, model: model, configured: configured, recommended: recommended,
                targetPrecision: precision))
            if details > 0 {
                print(Self.verifierMistakes(pairsInCache, model: model, at: Double(recommended?.threshold ?? configured), count: details))
            }
        }
        if let write {
            guard let recommended else {
                throw CommandFailure("no threshold reaches precision \(precision); nothing written to \(write)")
            }
            try Self.writeThreshold(recommended.threshold, model: self.model, to: write)
            let option = self.model.map { "models.\($0).threshold" } ?? "cache.threshold"
            print("wrote \(option): \(String(format: "%.3f", recommended.threshold)) to \(write)")
        }
    }

    static func verifierTable(
        _ e: VerifierTuner.Evaluation, pairs: PairsInCache, model: VerifierModel, configured: Float, recommended: ThresholdRow?,
        targetPrecision: Double
    ) -> String {
        let positives = pairs.scored.filter(\.pair.same).count
        var out = "embedder: \(pairs.embedder)\n"
        out += "pairs: \(pairs.scored.count) (\(positives) same, \(pairs.scored.count - positives) different); "
        out += "decision: verifier (probability that the cached answer serves the prompt)\n"
        out += String(format: "ROC AUC: %.4f\n\n", e.auc)
        out += "threshold  precision  recall     F1   TP   FP   FN\n"
        for row in e.rows {
            let t = row.threshold
            let marked = t == recommended?.threshold || abs(t - configured) < 0.0005
            guard marked || Int((t * 100).rounded()) % 5 == 0 else { continue }
            var note = ""
            if t == recommended?.threshold { note += "  <- best recall at precision ≥ \(targetPrecision)" }
            if abs(t - configured) < 0.0005 { note += "  (configured)" }
            out += String(format: "%9.2f  %9.3f  %6.3f  %5.3f %4d %4d %4d", t, row.precision, row.recall, row.f1,
                          row.truePositives, row.falsePositives, row.falseNegatives) + note + "\n"
        }
        out += String(format: "\nas a cache of the %d cached prompts, %d lookups at %.2f: %d correct hits, %d wrong hits, %d misses\n",
                      pairs.anchors.count, pairs.lookups.count, configured, e.correctHits, e.wrongHits, e.misses)
        out += "calibration (predicted probability: pairs, mean predicted, observed same):\n"
        for b in e.calibration {
            out += String(format: "  %.1f-%.1f: %5d  %.3f  %.3f\n", b.low, b.high, b.pairs, b.meanProbability, b.observed)
        }
        if let rec = recommended {
            out += String(format: "\nrecommended threshold: %.2f (precision %.3f, recall %.3f)\n", rec.threshold, rec.precision, rec.recall)
        } else {
            out += "\nno threshold reaches precision \(targetPrecision)\n"
        }
        return out
    }

    /// The different pairs with the highest probability and the same pairs with the lowest.
    static func verifierMistakes(_ pairs: PairsInCache, model: VerifierModel, at threshold: Double, count: Int) -> String {
        let scored = zip(pairs.scored, pairs.probabilities(model)).map { ($0, $1) }
        let wrong = scored.filter { !$0.0.pair.same && $0.1 >= threshold }.sorted { $0.1 > $1.1 }.prefix(count)
        let missed = scored.filter { $0.0.pair.same && $0.1 < threshold }.sorted { $0.1 < $1.1 }.prefix(count)
        var out = String(format: "\nwrong hits at %.2f (different, but probable enough):\n", threshold)
        for (s, p) in wrong {
            out += String(format: "  %.3f (similarity %.3f)  [%@] %@  |  %@\n", p, s.similarity, s.pair.kind ?? "-", s.pair.a, s.pair.b)
        }
        out += String(format: "missed at %.2f (same, but not probable enough):\n", threshold)
        for (s, p) in missed {
            out += String(format: "  %.3f (similarity %.3f)  %@  |  %@\n", p, s.similarity, s.pair.a, s.pair.b)
        }
        return out
    }
}
