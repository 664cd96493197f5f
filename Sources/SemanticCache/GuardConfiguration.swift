import Embedding
import Foundation

/// Which checks the guard runs (all by default).
public struct GuardConfiguration: Codable, Sendable, Equatable {
    public var numbers: Bool
    public var negation: Bool
    public var wordOrder: Bool
    /// Refuse when both prompts name things (capitalised words) and the names differ.
    public var names: Bool
    public var emptyQuery: Bool
    /// Prompts of more words than this hit only exactly (0: no limit). In a long prompt (a
    /// document to summarise, a pasted log) a changed sentence barely moves the embedding, so a
    /// different request would score as the same one; and MiniLM reads only its first 256
    /// tokens (about 190 words), so it cannot see a difference after them at all. 150 stays
    /// inside that window. Such prompts are stored without a vector.
    public var maxWords: Int

    public init(
        numbers: Bool = true, negation: Bool = true, wordOrder: Bool = true, names: Bool = true, emptyQuery: Bool = true,
        maxWords: Int = 150
    ) {
        self.numbers = numbers
        self.negation = negation
        self.wordOrder = wordOrder
        self.names = names
        self.emptyQuery = emptyQuery
        self.maxWords = maxWords
    }

    enum CodingKeys: String, CodingKey {
        case numbers, negation, wordOrder = "word_order", names, emptyQuery = "empty_query", maxWords = "max_words"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numbers = try c.decodeIfPresent(Bool.self, forKey: .numbers) ?? true
        negation = try c.decodeIfPresent(Bool.self, forKey: .negation) ?? true
        wordOrder = try c.decodeIfPresent(Bool.self, forKey: .wordOrder) ?? true
        names = try c.decodeIfPresent(Bool.self, forKey: .names) ?? true
        emptyQuery = try c.decodeIfPresent(Bool.self, forKey: .emptyQuery) ?? true
        maxWords = try c.decodeIfPresent(Int.self, forKey: .maxWords) ?? 150
    }
}
