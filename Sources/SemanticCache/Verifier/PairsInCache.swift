public import Embedding
import Foundation

/// Labelled pairs as a cache sees them: every distinct `a` is a cached prompt, every distinct `b`
/// a lookup against all of them at once, as the pairs would meet in one namespace.
///
/// So that a pair is judged with what a lookup would know: the similarity of `b` to `a`, and
/// that of the best other cached prompt (the verifier's margin). ``lookups`` also give each
/// distinct `b` its nearest cached prompts, to count what a cache would serve: correct hits (a
/// cached prompt labelled the same as `b`), wrong hits (any other) and misses.
public struct PairsInCache: Sendable {
    /// One labelled pair with what a lookup of `b` would see of `a`.
    public struct Scored: Sendable {
        public var pair: LabelledPair
        public var similarity: Float
        /// The best similarity of `b` to any cached prompt other than `a`.
        public var competitor: Float?
        public var query: PromptFeatures
        public var candidate: PromptFeatures
    }

    /// One distinct `b`: its nearest cached prompts (index in ``anchors``, similarity), best
    /// first, and the cached prompts labelled as serving it.
    public struct Lookup: Sendable {
        public var query: String
        public var features: PromptFeatures
        public var candidates: [(anchor: Int, similarity: Float)]
        public var correct: Set<Int>
    }

    public var scored: [Scored]
    public var anchors: [String]
    public var anchorFeatures: [PromptFeatures]
    public var lookups: [Lookup]
    public var embedder: String

    /// Embeds every distinct prompt once, in batches of `batch` (the MiniLM embedder runs a batch
    /// on all its workers at once), and scores every `b` against every cached prompt.
    ///
    /// - Parameter candidates: how many nearest cached prompts each lookup keeps.
    /// - Throws: ``CacheError/embedding(_:)``.
    public static func build(
        _ pairs: [LabelledPair], embedder: any Embedder, candidates k: Int = 5, batch: Int = 256
    ) async throws(CacheError) -> PairsInCache {
        var anchorIndex: [String: Int] = [:]
        var anchors: [String] = []
        var queryIndex: [String: Int] = [:]
        var queries: [String] = []
        for p in pairs {
            if anchorIndex[p.a] == nil { anchorIndex[p.a] = anchors.count; anchors.append(p.a) }
            if queryIndex[p.b] == nil { queryIndex[p.b] = queries.count; queries.append(p.b) }
        }
        let texts = anchors + queries
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + batch)
            do { vectors += try await embedder.embed(Array(texts[start..<end])) } catch { throw .embedding(error) }
            start = end
        }
        let anchorVectors = Array(vectors[0..<anchors.count])
        let queryVectors = Array(vectors[anchors.count...])
        // Similarities of every query to every cached prompt, row by row.
        var sims = [[Float]](repeating: [], count: queries.count)
        for (qi, q) in queryVectors.enumerated() {
            sims[qi] = anchorVectors.map { a in
                var s: Float = 0
                for d in 0..<min(a.count, q.count) { s += a[d] * q[d] }
                return s
            }
        }
        let anchorFeatures = anchors.map { PromptFeatures($0) }
        let queryFeatures = queries.map { PromptFeatures($0) }
        var scored: [Scored] = []
        scored.reserveCapacity(pairs.count)
        var correct = [Set<Int>](repeating: [], count: queries.count)
        for p in pairs {
            let ai = anchorIndex[p.a]!, qi = queryIndex[p.b]!
            if p.same { correct[qi].insert(ai) }
            var competitor: Float?
            for (j, s) in sims[qi].enumerated() where j != ai && anchors[j] != p.b {
                competitor = max(competitor ?? s, s)
            }
            scored.append(Scored(
                pair: p, similarity: sims[qi][ai], competitor: competitor, query: queryFeatures[qi], candidate: anchorFeatures[ai]))
        }
        var lookups: [Lookup] = []
        lookups.reserveCapacity(queries.count)
        for (qi, q) in queries.enumerated() {
            let top = sims[qi].enumerated().filter { anchors[$0.offset] != q }
                .sorted { $0.element > $1.element }.prefix(k).map { (anchor: $0.offset, similarity: $0.element) }
            lookups.append(Lookup(query: q, features: queryFeatures[qi], candidates: Array(top), correct: correct[qi]))
        }
        return PairsInCache(
            scored: scored, anchors: anchors, anchorFeatures: anchorFeatures, lookups: lookups, embedder: embedder.identity)
    }

    /// The training examples: each pair's feature values.
    public func examples(floor: Float) -> [VerifierTrainer.Example] {
        scored.map { s in
            VerifierTrainer.Example(
                values: VerifierFeature.values(
                    query: s.query, candidate: s.candidate, similarity: s.similarity, competitor: s.competitor, floor: floor),
                same: s.pair.same)
        }
    }

    /// Each pair's probability under `model` (for pairs below the model's floor, 0: a lookup
    /// would not weigh them).
    public func probabilities(_ model: VerifierModel) -> [Double] {
        scored.map { s in
            guard s.similarity >= model.floor else { return 0 }
            return model.probability(VerifierFeature.values(
                query: s.query, candidate: s.candidate, similarity: s.similarity, competitor: s.competitor, floor: model.floor))
        }
    }

    /// What a cache of the ``anchors`` would serve each lookup under `decision`: counts of correct
    /// hits, wrong hits and misses.
    public func serve(_ decision: Decision) -> LookupCounts {
        var counts = LookupCounts()
        for lookup in lookups {
            guard let served = decision.choose(lookup, anchors: anchorFeatures) else {
                counts.misses += 1
                if !lookup.correct.isEmpty { counts.missedServable += 1 }
                continue
            }
            if lookup.correct.contains(served) {
                counts.correct += 1
            } else {
                counts.wrong += 1
                if !lookup.correct.isEmpty { counts.wrongOnServable += 1 }
            }
        }
        return counts
    }

    /// Correct hits, wrong hits and misses of a cache over the lookups.
    public struct LookupCounts: Sendable, Equatable {
        public var correct = 0
        public var wrong = 0
        public var misses = 0
        /// Misses of a lookup that some cached prompt would have served.
        public var missedServable = 0
        /// Wrong hits of a lookup that some cached prompt would have served (another one was).
        public var wrongOnServable = 0

        public var precision: Double { correct + wrong == 0 ? 1 : Double(correct) / Double(correct + wrong) }
    }

    /// How a lookup picks the cached prompt it serves, if any.
    public enum Decision: Sendable {
        /// The candidate with the highest probability, when it reaches `threshold`; a query the
        /// guard's query checks exclude (empty, only function words, too long) never hits.
        case verifier(VerifierModel, threshold: Double, queryChecks: GuardConfiguration = .init())
        /// The first candidate by similarity at or above `threshold` that the guard lets
        /// through; with `fallThrough`, later candidates are tried when the guard refuses one
        /// (what Deja did before the verifier), else only the best is.
        case cosine(threshold: Float, guard: GuardConfiguration?, fallThrough: Bool)

        func choose(_ lookup: Lookup, anchors: [PromptFeatures]) -> Int? {
            switch self {
            case .verifier(let model, let threshold, let queryChecks):
                if FalsePositiveGuard(configuration: queryChecks).checkQuery(lookup.features) != nil { return nil }
                let live = lookup.candidates.filter { $0.similarity >= model.floor }
                var best: (Int, Double)?
                for (i, c) in live.enumerated() {
                    let competitor = live.enumerated().filter { $0.offset != i }.map(\.element.similarity).max()
                    let p = model.probability(VerifierFeature.values(
                        query: lookup.features, candidate: anchors[c.anchor], similarity: c.similarity, competitor: competitor,
                        floor: model.floor))
                    if best == nil || p > best!.1 { best = (c.anchor, p) }
                }
                guard let best, best.1 >= threshold else { return nil }
                return best.0
            case .cosine(let threshold, let checks, let fallThrough):
                let guardrail = checks.map { FalsePositiveGuard(configuration: $0) }
                if let guardrail, guardrail.checkQuery(lookup.features) != nil { return nil }
                for c in lookup.candidates {
                    guard c.similarity >= threshold else { return nil }
                    if let guardrail, guardrail.check(query: lookup.features, candidate: anchors[c.anchor]) != nil {
                        if fallThrough { continue } else { return nil }
                    }
                    return c.anchor
                }
                return nil
            }
        }
    }
}
