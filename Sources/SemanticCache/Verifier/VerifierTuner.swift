import Foundation

/// Trains a ``VerifierModel`` on labelled pairs and judges it on pairs held out: what
/// `deja tune --train` runs, and how the shipped models in `models/` were made.
public enum VerifierTuner {
    /// How a decision did on a set of pairs.
    public struct Evaluation: Sendable, Codable {
        /// ROC AUC of the pairs' scores (probability, or similarity).
        public var auc: Double
        /// Precision and recall per threshold, over the pairs.
        public var rows: [ThresholdRow]
        /// What a cache of the pairs' `a` prompts would serve at the threshold in use.
        public var correctHits: Int
        public var wrongHits: Int
        public var misses: Int
        /// Predicted probability against the share of pairs that were labelled the same, in bins.
        public var calibration: [CalibrationBin]

        enum CodingKeys: String, CodingKey {
            case auc, rows, correctHits = "correct_hits", wrongHits = "wrong_hits", misses, calibration
        }
    }

    /// Pairs whose probability fell in `[low, high)`.
    public struct CalibrationBin: Sendable, Codable, Equatable {
        public var low: Double
        public var high: Double
        public var pairs: Int
        public var meanProbability: Double
        public var observed: Double

        enum CodingKeys: String, CodingKey { case low, high, pairs, meanProbability = "mean_probability", observed }
    }

    /// A feature left out: what the model scores without it.
    public struct Ablation: Sendable, Codable {
        public var feature: VerifierFeature
        public var auc: Double
        public var correctHits: Int
        public var wrongHits: Int

        enum CodingKeys: String, CodingKey { case feature, auc, correctHits = "correct_hits", wrongHits = "wrong_hits" }
    }

    public struct Report: Sendable, Codable {
        public var model: VerifierModel
        /// On the held-out pairs, when there are any; else on the training pairs.
        public var evaluation: Evaluation
        public var evaluatedOn: String
        /// Each feature retrained without, judged the same way.
        public var ablation: [Ablation]

        enum CodingKeys: String, CodingKey { case model, evaluation, evaluatedOn = "evaluated_on", ablation }
    }

    /// Fits a model on `train`, picks its threshold there (the lowest probability at which the
    /// training pairs are right with `targetPrecision`), and judges it on `heldOut`.
    public static func train(
        _ train: PairsInCache, heldOut: PairsInCache?, features: [VerifierFeature] = VerifierFeature.defaults, l2: Double = 1,
        seed: UInt64 = 1, targetPrecision: Double = 0.95, floor: Float? = nil, ablation: Bool = true
    ) -> Report {
        let model = fit(train, features: features, l2: l2, targetPrecision: targetPrecision, floor: floor)
        let judged = heldOut ?? train
        var result = model
        let evaluation = evaluate(model, on: judged, threshold: model.threshold)
        let positives = judged.scored.filter(\.pair.same).count
        let hitRow = rows(judged.probabilities(model), judged, thresholds: [model.threshold]).first
        result.training = VerifierTraining(
            pairs: train.scored.count, positives: train.scored.filter(\.pair.same).count, heldOutPairs: heldOut?.scored.count ?? 0,
            seed: seed, l2: l2, heldOutAUC: heldOut == nil ? nil : evaluation.auc,
            heldOutPrecision: heldOut == nil ? nil : hitRow?.precision,
            heldOutRecall: heldOut == nil || positives == 0 ? nil : hitRow?.recall)
        var ablations: [Ablation] = []
        if ablation && features.count > 1 {
            for feature in features {
                let without = fit(
                    train, features: features.filter { $0 != feature }, l2: l2, targetPrecision: targetPrecision, floor: model.floor)
                let e = evaluate(without, on: judged, threshold: without.threshold)
                ablations.append(Ablation(feature: feature, auc: e.auc, correctHits: e.correctHits, wrongHits: e.wrongHits))
            }
        }
        return Report(model: result, evaluation: evaluation, evaluatedOn: heldOut == nil ? "training pairs" : "held-out pairs",
                      ablation: ablations)
    }

    static func fit(
        _ train: PairsInCache, features: [VerifierFeature], l2: Double, targetPrecision: Double, floor given: Float?
    ) -> VerifierModel {
        // The floor, unless given: a little under the lowest similarities of pairs labelled the
        // same, so that nearly every servable candidate is weighed and little else is.
        let positives = train.scored.filter(\.pair.same).map(\.similarity).sorted()
        let low = positives.isEmpty ? 0 : positives[min(positives.count - 1, positives.count / 100)]
        let floor = given ?? max(-1, min(0.9, ((low - 0.05) * 1000).rounded() / 1000))
        // Pairs under the floor are never weighed by a lookup: they do not train the model.
        let examples = train.examples(floor: floor).enumerated().filter { train.scored[$0.offset].similarity >= floor }.map(\.element)
        // A feature whose weight comes out against its meaning is dropped and the rest refitted.
        var kept = features
        var (mean, scale, weights, bias) = VerifierTrainer.fit(examples, features: kept, l2: l2)
        while let worst = kept.indices.filter({ i in kept[i].expectedSign.map { weights[i] * $0 < 0 } ?? false })
            .max(by: { abs(weights[$0]) < abs(weights[$1]) })
        {
            kept.remove(at: worst)
            (mean, scale, weights, bias) = VerifierTrainer.fit(examples, features: kept, l2: l2)
        }
        let features = kept
        var model = VerifierModel(
            embedder: train.embedder, features: features, mean: mean, scale: scale, weights: weights, bias: bias, floor: floor,
            threshold: 0.5)
        model.threshold = threshold(for: model, on: train, targetPrecision: targetPrecision)
        return model
    }

    /// The lowest probability, in steps of 0.01, at which the pairs judged at least that probable
    /// are labelled the same with `targetPrecision` (what `deja tune` recommends for a
    /// threshold); 0.99 when none does. Judged on pairs rather than on what a cache of them
    /// would serve, because a cache of labelled pairs is crowded with deliberate near-misses of
    /// every prompt it holds, and its precision says more about that crowd than about traffic.
    static func threshold(for model: VerifierModel, on pairs: PairsInCache, targetPrecision: Double) -> Double {
        let table = rows(pairs.probabilities(model), pairs, thresholds: stride(from: 0.05, through: 0.99, by: 0.01).map { $0 })
        let met = table.first { $0.truePositives > 0 && $0.precision >= targetPrecision }
        return met.map { (Double($0.threshold) * 100).rounded() / 100 } ?? 0.99
    }

    /// `model` at `threshold` on `pairs`.
    public static func evaluate(_ model: VerifierModel, on pairs: PairsInCache, threshold: Double) -> Evaluation {
        let p = pairs.probabilities(model)
        let labels = pairs.scored.map(\.pair.same)
        let counts = pairs.serve(.verifier(model, threshold: threshold))
        return Evaluation(
            auc: ThresholdTuner.auc(zip(p, labels).map { (Float($0), $1) }),
            rows: rows(p, pairs, thresholds: stride(from: 0.05, through: 0.99, by: 0.01).map { $0 }),
            correctHits: counts.correct, wrongHits: counts.wrong, misses: counts.misses,
            calibration: calibration(p, labels))
    }

    /// Precision and recall of "serve when the probability reaches t" over the pairs.
    static func rows(_ p: [Double], _ pairs: PairsInCache, thresholds: [Double]) -> [ThresholdRow] {
        let labels = pairs.scored.map(\.pair.same)
        let positives = labels.filter { $0 }.count
        return thresholds.map { t in
            var tp = 0, fp = 0
            for (score, same) in zip(p, labels) where score >= t {
                if same { tp += 1 } else { fp += 1 }
            }
            let precision = tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp)
            let recall = positives == 0 ? 0 : Double(tp) / Double(positives)
            return ThresholdRow(
                threshold: Float((t * 100).rounded() / 100), truePositives: tp, falsePositives: fp, falseNegatives: positives - tp,
                precision: precision, recall: recall, f1: precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall))
        }
    }

    /// Ten bins of predicted probability, each with the share of its pairs labelled the same.
    static func calibration(_ p: [Double], _ labels: [Bool]) -> [CalibrationBin] {
        (0..<10).compactMap { b in
            let low = Double(b) / 10, high = Double(b + 1) / 10
            let inside = zip(p, labels).filter { $0.0 >= low && ($0.0 < high || (b == 9 && $0.0 <= 1)) }
            guard !inside.isEmpty else { return nil }
            return CalibrationBin(
                low: low, high: high, pairs: inside.count, meanProbability: inside.map(\.0).reduce(0, +) / Double(inside.count),
                observed: Double(inside.filter(\.1).count) / Double(inside.count))
        }
    }
}
