/// What the verifier weighs to decide whether a cached prompt's answer serves a new prompt: the
/// embedding's similarity, how far the candidate stands above the next best one, and the
/// differences the false-positive guard used to veto on, each now a piece of evidence.
///
/// Every feature is computed from two prompts' ``PromptFeatures``, their similarity and the
/// similarity of the best other candidate, so the same code serves a lookup and `deja tune`.
public enum VerifierFeature: String, CaseIterable, Codable, Sendable {
    /// The cosine similarity of the two prompts' embeddings.
    case similarity
    /// The similarity of the best other candidate in the namespace (at least the model's floor).
    /// Beside ``similarity`` it gives the margin by which a candidate stands ahead of the rest:
    /// one far ahead is more often the one meant, one in a crowd of near equals less often.
    /// Measured on held-out duplicate questions, the margin was the most telling signal besides
    /// the similarity itself. (Weighed as the competitor's similarity rather than as the margin,
    /// so that each weight has one meaning: more similarity counts for a match, a closer
    /// competitor against it.)
    case competitor
    /// Each prompt holds a number the other lacks: a number changed ("2+2" / "3+3").
    case numbersDiffer = "numbers_differ"
    /// Only one of the prompts holds numbers the other lacks: a detail added ("a few files" /
    /// "3 files", "from 50 to 400 ms" / "from 50 to 400 ms, roughly 8x").
    case numbersOneSide = "numbers_one_side"
    /// One prompt negates and the other does not.
    case negationDiffers = "negation_differs"
    /// The prompts use opposite words (on/off, upload/download).
    case oppositeWords = "opposite_words"
    /// How much the names differ when both prompts name things: the share of their names the
    /// other lacks (1 − their Jaccard overlap), an abbreviation matching what it abbreviates.
    case namesDiffer = "names_differ"
    /// Only one of the prompts names things ("Machine Learning" / "ML").
    case namesOneSide = "names_one_side"
    /// The same content words with two of them swapped ("JSON to YAML" / "YAML to JSON").
    case wordOrder = "word_order"
    /// One content word exchanged for another, the rest the same: a thing or a property swapped
    /// ("restart a pod" / "restart a node", "a used car" / "a new car"), which the embedding
    /// barely notices, or a synonym ("delete" / "remove"), which the similarity then shows.
    case wordSwapped = "word_swapped"
    /// The shorter prompt's word count over the longer's.
    case lengthRatio = "length_ratio"
    /// The Jaccard overlap of the two prompts' content words.
    case contentOverlap = "content_overlap"
    /// The share of the new prompt's content words that the cached prompt lacks.
    case novelWords = "novel_words"

    /// The features of a candidate: `query` is the new prompt, `candidate` the cached one.
    ///
    /// - Parameters:
    ///   - similarity: the cosine of the two prompts.
    ///   - competitor: the best similarity among the namespace's other candidates, if any.
    ///   - floor: the lowest similarity the verifier considers; a competitor below it counts as it.
    ///   - features: the features to compute (the others stay 0): a lookup asks for its model's
    ///     only, leaving out the set-building ones no shipped model weighs.
    public static func values(
        query: PromptFeatures, candidate: PromptFeatures, similarity: Float, competitor: Float?, floor: Float,
        features: [VerifierFeature] = allCases
    ) -> [Double] {
        var out = [Double](repeating: 0, count: allCases.count)
        for feature in features {
            out[feature.index] = feature.value(
                query: query, candidate: candidate, similarity: similarity, competitor: competitor, floor: floor)
        }
        return out
    }

    /// The features a model weighs unless told otherwise: the similarity, the competitor, and the
    /// differences that are evidence against a match whatever the prompts' wording. Length and
    /// word overlap are left out: on labelled pairs made of near-misses (one word changed) they
    /// learn that a small edit means a different question, which real paraphrases ("How do I" /
    /// "How can I") contradict.
    public static let defaults: [VerifierFeature] = [
        .similarity, .competitor, .numbersDiffer, .numbersOneSide, .negationDiffers, .oppositeWords, .namesDiffer, .wordOrder,
        .wordSwapped,
    ]

    /// The sign a feature's weight must have to mean what it says: a difference between the
    /// prompts is evidence against a match and may never count for one. Training drops a
    /// feature whose weight comes out the other way.
    public var expectedSign: Double? {
        switch self {
        case .similarity, .contentOverlap: 1
        case .competitor, .numbersDiffer, .numbersOneSide, .negationDiffers, .oppositeWords, .namesDiffer, .namesOneSide, .wordOrder,
             .wordSwapped, .novelWords: -1
        case .lengthRatio: nil
        }
    }

    /// The feature in words, for a refusal's reason.
    public var description: String {
        switch self {
        case .similarity: "similarity"
        case .competitor: "a close competitor"
        case .numbersDiffer: "numbers differ"
        case .numbersOneSide: "numbers on one side only"
        case .negationDiffers: "negation differs"
        case .oppositeWords: "opposite words"
        case .namesDiffer: "names differ"
        case .namesOneSide: "names on one side only"
        case .wordOrder: "words in another order"
        case .wordSwapped: "a word exchanged"
        case .lengthRatio: "lengths differ"
        case .contentOverlap: "words overlap"
        case .novelWords: "new words"
        }
    }

    /// This feature's place in ``values(query:candidate:similarity:competitor:floor:)``.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    func value(query q: PromptFeatures, candidate c: PromptFeatures, similarity: Float, competitor: Float?, floor: Float) -> Double {
        func flag(_ b: Bool) -> Double { b ? 1 : 0 }
        switch self {
        case .similarity:
            return Double(similarity)
        case .competitor:
            return Double(max(competitor ?? floor, floor))
        case .numbersDiffer:
            // In any order: "Windows 11 ... 100%" and "100 percent ... Windows 11" agree.
            let (left, right) = Self.unshared(q.numbers, c.numbers)
            return flag(left && right)
        case .numbersOneSide:
            let (left, right) = Self.unshared(q.numbers, c.numbers)
            return flag(left != right)
        case .negationDiffers:
            return flag(q.negated != c.negated)
        case .oppositeWords:
            return flag(FalsePositiveGuard.oppositeWords(q, c) != nil)
        case .namesDiffer:
            guard !q.names.isEmpty && !c.names.isEmpty else { return 0 }
            let (left, right) = PromptFeatures.unmatchedNames(q, c)
            return min(1, Double(left.count + right.count) / Double(q.names.union(c.names).count))
        case .namesOneSide:
            return flag(q.names.isEmpty != c.names.isEmpty)
        case .wordOrder:
            return flag(q.contentSequence != c.contentSequence && Self.unsharedCount(q.contentSequence, c.contentSequence) == (0, 0)
                && FalsePositiveGuard.swapsSeparatedWords(q, c))
        case .wordSwapped:
            guard q.contentWords >= 2, c.contentWords >= 2 else { return 0 }
            return flag(Self.unsharedCount(q.contentSequence, c.contentSequence) == (1, 1))
        case .lengthRatio:
            let (a, b) = (q.words, c.words)
            return max(a, b) == 0 ? 1 : Double(min(a, b)) / Double(max(a, b))
        case .contentOverlap:
            return Self.jaccard(Set(q.contentSequence), Set(c.contentSequence))
        case .novelWords:
            let mine = Set(q.contentSequence)
            guard !mine.isEmpty else { return 0 }
            return Double(mine.subtracting(c.contentSequence).count) / Double(mine.count)
        }
    }

    /// Whether each list holds a value the other lacks, counting repeats ("2+2" / "2+2+2").
    static func unshared(_ a: [String], _ b: [String]) -> (Bool, Bool) {
        if a == b { return (false, false) }
        if a.isEmpty || b.isEmpty { return (!a.isEmpty, !b.isEmpty) }
        var counts: [String: Int] = [:]
        for x in a { counts[x, default: 0] += 1 }
        for x in b { counts[x, default: 0] -= 1 }
        return (counts.values.contains { $0 > 0 }, counts.values.contains { $0 < 0 })
    }

    /// How many values of each list the other lacks, counting repeats.
    static func unsharedCount(_ a: [UInt64], _ b: [UInt64]) -> (Int, Int) {
        // A prompt has a few dozen content words at most: pairing each of `a`'s with an unused
        // equal one of `b`'s costs less than hashing both into a dictionary (a lookup weighs
        // each candidate with this).
        if b.count <= 64 {
            var used: UInt64 = 0
            var matched = 0
            for x in a {
                var j = 0
                while j < b.count {
                    if b[j] == x && used & (1 << UInt64(j)) == 0 {
                        used |= 1 << UInt64(j)
                        matched += 1
                        break
                    }
                    j += 1
                }
            }
            return (a.count - matched, b.count - matched)
        }
        var counts: [UInt64: Int] = [:]
        for x in a { counts[x, default: 0] += 1 }
        for x in b { counts[x, default: 0] -= 1 }
        var left = 0, right = 0
        for n in counts.values { if n > 0 { left += n } else { right -= n } }
        return (left, right)
    }

    static func jaccard<T: Hashable>(_ a: Set<T>, _ b: Set<T>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
    }
}
