import DejaSupport
import Embedding
import Foundation

/// Whether a cached answer and a fresh one are the same answer, for verification and shadow
/// mode. Short and structured answers (tool calls, JSON, a word or two) must be equal, after
/// folding case and white space; prose is compared by the cosine of its embeddings, which
/// forgives rewording that two runs of a model produce, against `cache.answer_agreement`.
enum AnswerComparison {
    /// The verdict and, when prose was embedded, the answers' similarity.
    struct Verdict: Sendable {
        var agree: Bool
        var similarity: Float?
    }

    /// Under this many characters an answer is compared as written.
    static let shortAnswer = 40

    static func compare(cached: Data, fresh: JSONValue, embedder: any Embedder, agreement: Float) async -> Verdict {
        guard let stored = try? JSONValue.parse(cached) else { return Verdict(agree: false) }
        let calls = (toolCalls(stored), toolCalls(fresh))
        if calls.0 != nil || calls.1 != nil { return Verdict(agree: calls.0 == calls.1) }
        let a = normalized(OpenAIWire.firstText(stored) ?? "")
        let b = normalized(OpenAIWire.firstText(fresh) ?? "")
        if a == b { return Verdict(agree: true, similarity: 1) }
        let structured = a.hasPrefix("{") || a.hasPrefix("[") || b.hasPrefix("{") || b.hasPrefix("[")
        if structured || a.count < shortAnswer || b.count < shortAnswer { return Verdict(agree: false) }
        guard let vectors = try? await embedder.embed([a, b]), vectors.count == 2 else { return Verdict(agree: false) }
        var s: Float = 0
        for (x, y) in zip(vectors[0], vectors[1]) { s += x * y }
        return Verdict(agree: s >= agreement, similarity: s)
    }

    /// The calls an answer makes, names and arguments, comparable; `nil` when it makes none.
    static func toolCalls(_ answer: JSONValue) -> [JSONValue]? {
        guard let message = answer["choices"]?.arrayValue?.first?["message"] else { return nil }
        if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
            return calls.map { ["name": $0["function"]?["name"] ?? .null, "arguments": $0["function"]?["arguments"] ?? .null] }
        }
        if let call = message["function_call"], !call.isNull { return [call] }
        return nil
    }

    static func normalized(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
