import Embedding
import Foundation

/// Rejects the classic false positives of semantic caches before a similar prompt's answer is
/// served: different numbers ("what is 2+2" / "what is 3+3"), a negation on one side only,
/// opposite words ("turn on" / "turn off dark mode"), the same content words in another order
/// ("convert JSON to YAML" / "convert YAML to JSON"), different names when both prompts have
/// some ("a trip to Lisbon" / "a trip to Kyoto"), and queries without content.
public struct FalsePositiveGuard: Sendable {
    public var configuration: GuardConfiguration

    public init(configuration: GuardConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Whether a query may be answered by similarity at all.
    public func checkQuery(_ query: PromptFeatures) -> GuardRejection? {
        if configuration.maxWords > 0 && query.words > configuration.maxWords {
            return .tooLong(words: query.words, limit: configuration.maxWords)
        }
        guard configuration.emptyQuery else { return nil }
        if query.words == 0 { return .emptyQuery }
        if query.contentWords == 0 { return .onlyFunctionWords }
        return nil
    }

    /// Why `candidate` must not answer `query`, or `nil` when it may.
    public func check(query: PromptFeatures, candidate: PromptFeatures) -> GuardRejection? {
        if let rejection = checkQuery(query) { return rejection }
        if configuration.maxWords > 0 && candidate.words > configuration.maxWords {
            // Stored before the limit was lowered: it has a vector, but may not match either.
            return .tooLong(words: candidate.words, limit: configuration.maxWords)
        }
        if configuration.numbers && query.numbers != candidate.numbers {
            return .numbersDiffer(query: query.numbers, candidate: candidate.numbers)
        }
        if configuration.negation {
            if query.negated != candidate.negated { return .negationDiffers(queryNegated: query.negated) }
            if let (word, opposite) = Self.oppositeWords(query, candidate) {
                return .oppositeWords(query: word, candidate: opposite)
            }
        }
        if configuration.names && !query.names.isEmpty && !candidate.names.isEmpty && query.names != candidate.names
            && PromptFeatures.unmatchedNames(query, candidate) != ([], []) {
            return .namesDiffer(query: query.names.sorted(), candidate: candidate.names.sorted())
        }
        if configuration.wordOrder && query.contentSequence != candidate.contentSequence
            && query.contentSequence.sorted() == candidate.contentSequence.sorted()
            && Self.swapsSeparatedWords(query, candidate)
        {
            return .wordOrderDiffers
        }
        return nil
    }

    /// A word of the query whose opposite the candidate uses instead ("on" / "off"), if any.
    static func oppositeWords(_ query: PromptFeatures, _ candidate: PromptFeatures) -> (String, String)? {
        for word in query.polarWords.sorted() where !candidate.polarWords.contains(word) {
            if let opposite = PromptFeatures.antonyms[word]?.sorted().first(where: {
                candidate.polarWords.contains($0) && !query.polarWords.contains($0)
            }) {
                return (word, opposite)
            }
        }
        return nil
    }

    /// Whether two content words come in opposite orders in the two prompts while standing apart
    /// in both: roles swapped across a word between them ("dollars to euros" / "euros to
    /// dollars", "the cat chase the dog" / "the dog chase the cat"). Words next to each other in
    /// either prompt are a compound said the other way round ("a branch in git" / "a git
    /// branch"), which changes nothing: on the fixtures' pairs that kept 9 of the 11 paraphrases
    /// this check refused, and let no swapped pair through. Runs only for prompts of the same
    /// content words, so its quadratic loop is over a few words.
    static func swapsSeparatedWords(_ a: PromptFeatures, _ b: PromptFeatures) -> Bool {
        // Each word's first place in `b`, by position among b's content words.
        var firstInB: [UInt64: Int] = [:]
        for (i, h) in b.contentSequence.enumerated() where firstInB[h] == nil { firstInB[h] = i }
        let words = a.contentSequence
        for i in 0..<words.count {
            for j in (i + 1)..<words.count where words[i] != words[j] {
                guard let bi = firstInB[words[i]], let bj = firstInB[words[j]], bi > bj else { continue }
                let apartInA = a.contentPositions[j] - a.contentPositions[i] > 1
                let apartInB = b.contentPositions[bi] - b.contentPositions[bj] > 1
                if apartInA && apartInB { return true }
            }
        }
        return false
    }
}
