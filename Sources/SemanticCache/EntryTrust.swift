import Foundation

/// What the cache has learnt about one entry's answers to prompts that were only similar: from
/// feedback (a client saying a hit was right or wrong) and from verification (a would-be hit
/// forwarded anyway and its fresh answer compared with the cached one).
///
/// The right threshold differs from prompt to prompt (vCache, Schroeder et al., ICLR 2026): an
/// entry whose near-misses look alike needs more than one whose near-misses do not. Each entry
/// keeps its own record:
/// - a wrong hit raises the entry's own threshold above what was wrong: ``minProbability`` to the
///   verifier's probability for it, or without a verifier ``minSimilarity`` to its similarity;
///   an entry wrong `cache.retire_after` times is retired;
/// - right hits at probability `p` lower ``trustedProbability`` to `p`: once an entry has been found
///   right three times and never wrong, prompts at least that probable may hit it below the configured
///   threshold, down to the verification floor.
public struct EntryTrust: Sendable, Equatable, Codable {
    /// A prompt must be more similar than this to be served the entry's answer; `nil`: no limit
    /// of its own yet.
    public var minSimilarity: Float?
    /// A hit must be more probable than this to be served the entry's answer; `nil`: no limit of
    /// its own yet.
    public var minProbability: Double?
    /// The lowest probability at which a hit on the entry was found right; `nil`: none yet.
    public var trustedProbability: Double?
    /// Hits found wrong, by feedback or verification.
    public var wrongHits: Int
    /// Hits found right.
    public var rightHits: Int

    public init(
        minSimilarity: Float? = nil, minProbability: Double? = nil, trustedProbability: Double? = nil, wrongHits: Int = 0,
        rightHits: Int = 0
    ) {
        self.minSimilarity = minSimilarity
        self.minProbability = minProbability
        self.trustedProbability = trustedProbability
        self.wrongHits = wrongHits
        self.rightHits = rightHits
    }

    /// Whether a prompt at `similarity` (and, with a verifier, `probability`) may be served this
    /// entry's answer at all.
    public func allows(similarity: Float, probability: Double? = nil) -> Bool {
        if let minSimilarity, similarity <= minSimilarity { return false }
        if let minProbability, let probability, probability <= minProbability { return false }
        return true
    }

    /// Whether a hit at `probability`, under the configured threshold, may be served: the entry
    /// has been found right ``rightsToTrust`` times, never wrong, at probabilities as low.
    public func trusts(probability: Double) -> Bool {
        guard wrongHits == 0, rightHits >= Self.rightsToTrust, let trustedProbability else { return false }
        return probability >= trustedProbability
    }

    /// The entry's expected error rate: `prior` (the verifier's 1 − p) counted as `priorWeight`
    /// verdicts, and the entry's own verdicts.
    public func expectedError(prior: Double, priorWeight: Double) -> Double {
        (prior * priorWeight + Double(wrongHits)) / (priorWeight + Double(rightHits + wrongHits))
    }

    /// Right hits, and no wrong one, after which an entry is served below the threshold.
    static let rightsToTrust = 3

    /// Records a judged hit at `similarity` (1 for an exact one) and the verifier's `probability`.
    public mutating func record(correct: Bool, similarity: Float, probability: Double? = nil) {
        if correct {
            rightHits += 1
            if let probability { trustedProbability = min(trustedProbability ?? probability, probability) }
        } else {
            wrongHits += 1
            if let probability {
                minProbability = max(minProbability ?? probability, probability)
            } else if similarity < 1 {
                // An exact hit found wrong cannot be outbid by similarity; it counts towards retiring.
                minSimilarity = max(minSimilarity ?? similarity, similarity)
            }
            // Trust below the threshold is withdrawn for good: near-misses of this entry look alike.
            trustedProbability = nil
        }
    }
}
