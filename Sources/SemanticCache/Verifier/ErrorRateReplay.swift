import VectorIndex

/// Labelled pairs replayed as traffic through the verifier, to compare a static threshold with
/// per-entry thresholds learnt by verification (`cache.target_error_rate`): what `deja tune
/// --replay` prints.
///
/// The cache holds the pairs' `a` prompts; the traffic is every distinct `b`, each asked
/// `rounds` times in a seeded random order (real traffic repeats). A request is served when the
/// verifier's best candidate reaches the threshold and its entry allows the similarity; with a
/// target error rate, a would-be hit is instead verified at the entry's rate: forwarded, its
/// verdict (the pair's label) recorded in the entry's ``EntryTrust``; an entry found wrong
/// `retireAfter` times is retired (its requests miss, as they would once it is deleted). A served
/// answer is wrong when the label says the cached prompt does not serve the request.
public enum ErrorRateReplay {
    public struct Outcome: Sendable, Codable, Equatable {
        public var threshold: Double
        public var requests = 0
        public var served = 0
        public var wrong = 0
        /// Would-be hits forwarded to be verified (provider calls the cache could have saved).
        public var verified = 0

        /// Wrong answers among all requests.
        public var errorRate: Double { requests == 0 ? 0 : Double(wrong) / Double(requests) }
        public var hitRate: Double { requests == 0 ? 0 : Double(served) / Double(requests) }

        enum CodingKeys: String, CodingKey { case threshold, requests, served, wrong, verified }
    }

    /// The traffic: lookup indices in the order they are asked.
    static func traffic(_ pairs: PairsInCache, rounds: Int, seed: UInt64) -> [Int] {
        var order = (0..<rounds).flatMap { _ in Array(pairs.lookups.indices) }
        var rng = SplitMix64(seed: seed)
        order.shuffle(using: &rng)
        return order
    }

    /// One pass of the traffic at `threshold`; with `target` > 0, verifying as the cache does.
    public static func run(
        _ pairs: PairsInCache, model: VerifierModel, threshold: Double, target: Double = 0, rounds: Int = 3, seed: UInt64 = 1,
        retireAfter: Int = 3
    ) -> Outcome {
        var trust = [EntryTrust](repeating: EntryTrust(), count: pairs.anchors.count)
        var rng = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        var out = Outcome(threshold: threshold)
        // The verifier's choice for each lookup does not change between rounds: worked out once.
        let choices: [(anchor: Int, similarity: Float, p: Double)?] = pairs.lookups.map { lookup in
            let live = lookup.candidates.filter { $0.similarity >= model.floor }
            var best: (anchor: Int, similarity: Float, p: Double)?
            for (i, c) in live.enumerated() {
                let competitor = live.enumerated().filter { $0.offset != i }.map(\.element.similarity).max()
                let p = model.probability(VerifierFeature.values(
                    query: lookup.features, candidate: pairs.anchorFeatures[c.anchor], similarity: c.similarity,
                    competitor: competitor, floor: model.floor))
                if best == nil || p > best!.p { best = (c.anchor, c.similarity, p) }
            }
            return best
        }
        let policy = VerificationPolicy(threshold: threshold, target: target)
        for i in traffic(pairs, rounds: rounds, seed: seed) {
            out.requests += 1
            guard let choice = choices[i], choice.p >= policy.floor, trust[choice.anchor].wrongHits < retireAfter else { continue }
            let right = pairs.lookups[i].correct.contains(choice.anchor)
            let action = policy.action(probability: choice.p, similarity: choice.similarity, trust: trust[choice.anchor]) {
                Double(rng.next() >> 11) / Double(1 << 53)
            }
            switch action {
            case .miss:
                continue
            case .verify:
                out.verified += 1
                trust[choice.anchor].record(correct: right, similarity: choice.similarity, probability: choice.p)
            case .serve:
                out.served += 1
                if !right { out.wrong += 1 }
            }
        }
        return out
    }

    /// The static threshold (in steps of 0.01) with the most hits whose error rate is at most
    /// `target`, and its outcome.
    public static func bestStatic(
        _ pairs: PairsInCache, model: VerifierModel, target: Double, rounds: Int = 3, seed: UInt64 = 1
    ) -> Outcome? {
        stride(from: 0.05, through: 0.99, by: 0.01)
            .map { run(pairs, model: model, threshold: ($0 * 100).rounded() / 100, rounds: rounds, seed: seed) }
            .filter { $0.errorRate <= target }
            .max { ($0.served, -$0.threshold) < ($1.served, -$1.threshold) }
    }
}
