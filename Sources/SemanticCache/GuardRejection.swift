import DejaSupport
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
    /// The verifier's best candidate fell short of the threshold; `evidence` names what weighed
    /// most against it ("numbers differ"), when anything did besides a low similarity.
    case unlikely(probability: Double, threshold: Float, evidence: [String])
    /// The candidate's answer was judged wrong for a prompt at least as close before (feedback or
    /// verification raised the entry's own threshold to `minimum`: a probability with the
    /// verifier, a similarity without).
    case belowEntryThreshold(value: Double, minimum: Double)

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
        case .unlikely(let p, let t, let evidence):
            let why = evidence.isEmpty ? "" : " (" + evidence.joined(separator: ", ") + ")"
            return "the best candidate's probability \(p.fixed(2)) is under \(Double(t).fixed(2))" + why
        case .belowEntryThreshold(let value, let minimum):
            return "\(value.fixed(3)) is not above the entry's own threshold \(minimum.fixed(3)), raised by a wrong hit"
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
        case .unlikely: return "unlikely"
        case .belowEntryThreshold: return "entry_threshold"
        }
    }
}
