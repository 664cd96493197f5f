import ArgumentParser
import DejaSupport
import Embedding
import Foundation
import Gateway
import SemanticCache
import VectorIndex

extension Deja.Tune {
    /// `deja tune --train`: fits a verifier on the training pairs, judges it on the pairs held out
    /// (the file's `split` field, else a seeded 30% of its cached prompts), prints what each
    /// feature buys, and writes the model file.
    func train(_ configuration: DejaConfiguration, embedder: any Embedder, file: LabelledPairsFile) async throws {
        let (trainPairs, testPairs) = Self.split(file.pairs, seed: seed)
        guard trainPairs.contains(where: \.same), trainPairs.contains(where: { !$0.same }) else {
            throw CommandFailure("\(pairs): training needs pairs labelled both same and different")
        }
        let started = ContinuousClock.now
        let candidates = configuration.cache.candidates
        let trainSet = try await PairsInCache.build(trainPairs, embedder: embedder, candidates: candidates)
        let testSet = testPairs.isEmpty ? nil : try await PairsInCache.build(testPairs, embedder: embedder, candidates: candidates)
        let embedded = ContinuousClock.now - started
        let report = VerifierTuner.train(trainSet, heldOut: testSet, l2: l2, seed: seed, targetPrecision: precision, floor: floor)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.trainingTable(report, train: trainSet, test: testSet, guardChecks: configuration.cache.guardChecks,
                                     embedded: embedded))
        }
        if details > 0, let judged = testSet ?? Optional(trainSet) {
            let p = judged.probabilities(report.model)
            let ranked = zip(judged.scored, p).sorted { $0.1 > $1.1 }
            print("negatives with the highest probability:")
            for (s, q) in ranked.filter({ !$0.0.pair.same }).prefix(details) {
                print(String(format: "  %.3f sim %.3f comp %.3f [%@] %@ | %@", q, s.similarity, s.competitor ?? -1, s.pair.kind ?? "-", s.pair.a, s.pair.b))
            }
            print("positives with the lowest probability:")
            for (s, q) in ranked.reversed().filter({ $0.0.pair.same }).prefix(details) {
                print(String(format: "  %.3f sim %.3f comp %.3f [%@] %@ | %@", q, s.similarity, s.competitor ?? -1, s.pair.kind ?? "-", s.pair.a, s.pair.b))
            }
        }
        if let output {
            try TextFile.write(String(decoding: report.model.jsonData, as: UTF8.self) + "\n", to: output)
            print("wrote the model to \(output)")
        }
    }

    /// The file's own split when its lines say `split`, else the pairs of a seeded 30% of the
    /// cached prompts held out (all pairs of one cached prompt stay together).
    static func split(_ pairs: [LabelledPair], seed: UInt64) -> (train: [LabelledPair], test: [LabelledPair]) {
        if pairs.contains(where: { $0.split != nil }) {
            return (pairs.filter { $0.split == "train" }, pairs.filter { $0.split == "test" })
        }
        var rng = SplitMix64(seed: seed)
        let anchors = Array(Set(pairs.map(\.a))).sorted()
        let held = Set(anchors.filter { _ in rng.next() % 10 < 3 })
        return (pairs.filter { !held.contains($0.a) }, pairs.filter { held.contains($0.a) })
    }

    static func trainingTable(
        _ r: VerifierTuner.Report, train: PairsInCache, test: PairsInCache?, guardChecks: GuardConfiguration, embedded: Duration
    ) -> String {
        let judged = test ?? train
        let m = r.model
        var out = "embedder: \(m.embedder)\n"
        out += "training pairs: \(train.scored.count) (\(train.scored.filter(\.pair.same).count) same), "
        out += "\(train.anchors.count) cached prompts, \(train.lookups.count) lookups\n"
        if let test {
            out += "held-out pairs: \(test.scored.count) (\(test.scored.filter(\.pair.same).count) same), "
            out += "\(test.anchors.count) cached prompts, \(test.lookups.count) lookups\n"
        }
        out += "embedding took \(embedded.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))\n\n"
        out += "weights (on standardised features):\n"
        for (i, f) in m.features.enumerated() {
            out += "  " + f.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%+7.3f\n", m.weights[i])
        }
        out += String(format: "  %@%+7.3f\n", "bias".padding(toLength: 18, withPad: " ", startingAt: 0), m.bias)
        out += String(format: "floor: similarity %.3f; threshold: probability %.2f\n\n", m.floor, m.threshold)
        let e = r.evaluation
        out += "on the \(r.evaluatedOn):\n"
        out += String(format: "  ROC AUC %.4f\n", e.auc)
        out += "  as a cache of its \(judged.anchors.count) prompts, \(judged.lookups.count) lookups "
        out += "(correct hits / wrong hits / misses):\n"
        out += String(format: "    verifier at %.2f:      %4d / %3d / %4d\n", m.threshold, e.correctHits, e.wrongHits, e.misses)
        for t in [0.5, 0.6, 0.7, 0.8, 0.9, 0.95] {
            let c = judged.serve(.verifier(m, threshold: t))
            out += String(format: "    verifier at %.2f:      %4d / %3d / %4d   servable lookups only: %4d / %3d / %4d\n", t,
                          c.correct, c.wrong, c.misses, c.correct, c.wrongOnServable, c.missedServable)
        }
        let labels = judged.scored.map(\.pair.same)
        let bareAUC = ThresholdTuner.auc(zip(judged.scored.map(\.similarity), labels).map { ($0, $1) })
        let guardrail = FalsePositiveGuard(configuration: guardChecks)
        let guardAUC = ThresholdTuner.auc(judged.scored.map { s in
            (guardrail.check(query: s.query, candidate: s.candidate) == nil ? s.similarity : -2, s.pair.same)
        })
        out += String(format: "  ROC AUC of the similarity alone %.4f, with the guard's vetoes %.4f\n", bareAUC, guardAUC)
        for t: Float in [0.8, 0.85, 0.87, 0.9] {
            let bare = judged.serve(.cosine(threshold: t, guard: nil, fallThrough: false))
            let old = judged.serve(.cosine(threshold: t, guard: guardChecks, fallThrough: true))
            out += String(format: "    similarity %.2f bare:  %4d / %3d / %4d   with the guard's vetoes: %4d / %3d / %4d   servable only: bare %4d / %3d, guard %4d / %3d\n", t,
                          bare.correct, bare.wrong, bare.misses, old.correct, old.wrong, old.misses,
                          bare.correct, bare.wrongOnServable, old.correct, old.wrongOnServable)
        }
        out += "  calibration (probability bin: pairs, mean predicted, observed same):\n"
        for b in e.calibration {
            out += String(format: "    %.1f-%.1f: %5d  %.3f  %.3f\n", b.low, b.high, b.pairs, b.meanProbability, b.observed)
        }
        if !r.ablation.isEmpty {
            out += "  without each feature (retrained): ROC AUC, correct / wrong hits\n"
            for a in r.ablation {
                out += "    " + a.feature.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)
                out += String(format: "%.4f  %4d / %3d\n", a.auc, a.correctHits, a.wrongHits)
            }
        }
        return out
    }
}
