import Embedding
import Foundation

/// Why a candidate was not served although it was similar enough.
public enum GuardRejection: Sendable, Equatable, CustomStringConvertible {
    case emptyQuery
    case onlyFunctionWords
    case numbersDiffer(query: [String], candidate: [String])
    case negationDiffers(queryNegated: Bool)
    case oppositeWords(query: String, candidate: String)
    case wordOrderDiffers
    case namesDiffer(query: [String], candidate: [String])
    case tooLong(words: Int, limit: Int)

    public var description: String {
        switch self {
        case .emptyQuery: return "the query has no words"
        case .onlyFunctionWords: return "the query has only function words"
        case .numbersDiffer(let q, let c):
            return "numbers differ (\(q.joined(separator: ", ")) vs \(c.joined(separator: ", ")))"
        case .negationDiffers(let queryNegated):
            return queryNegated ? "the query negates and the cached prompt does not"
                : "the cached prompt negates and the query does not"
        case .oppositeWords(let q, let c): return "opposite words (\(q) vs \(c))"
        case .wordOrderDiffers: return "the same words in another order"
        case .namesDiffer(let q, let c):
            return "names differ (\(q.joined(separator: ", ")) vs \(c.joined(separator: ", ")))"
        case .tooLong(let words, let limit):
            return "the prompt has \(words) words, more than the \(limit) that may match by similarity"
        }
    }

    /// A short machine-readable name (`numbers`, `negation`, ...).
    public var code: String {
        switch self {
        case .emptyQuery: return "empty_query"
        case .onlyFunctionWords: return "only_function_words"
        case .numbersDiffer: return "numbers"
        case .negationDiffers: return "negation"
        case .oppositeWords: return "opposite_words"
        case .wordOrderDiffers: return "word_order"
        case .namesDiffer: return "names"
        case .tooLong: return "too_long"
        }
    }
}
