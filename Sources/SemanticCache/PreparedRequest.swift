public import Embedding

/// A request as the cache works with it, each part computed once: its namespace and exact key
/// when it is prepared, then, as far as a lookup needed them, the prompt's words, the features
/// the guard compares and its vector.
///
/// A lookup that misses returns it in ``CacheMiss/request``, and
/// ``SemanticCache/insert(_:response:model:promptTokens:completionTokens:ttl:)`` takes it: the
/// answer to a miss is stored without hashing the conversation, normalising the prompt or
/// embedding it again.
///
/// ```swift
/// let prepared = cache.prepare(request)
/// if case .miss(let miss) = try await cache.lookup(prepared) {
///     try await cache.insert(miss.request, response: answer, model: "gpt-4o")
/// }
/// ```
public struct PreparedRequest: Sendable {
    public let request: CacheRequest
    public let namespace: Namespace
    /// Identical requests, and only they, share it.
    public let exactKey: Digest128
    /// The prompt folded (NFKC, lower case) when it is not ASCII: the costly part of normalising
    /// it, shared by the exact key and the words.
    let folded: String?
    /// The prompt's words, once a lookup or an insert needed them.
    var text: NormalizedText?
    /// The prompt's features for the guard, once computed.
    var features: PromptFeatures?
    /// The prompt's vector, once embedded.
    public internal(set) var vector: [Float]?

    init(_ request: CacheRequest, namespace: Namespace) {
        self.request = request
        self.namespace = namespace
        folded = request.prompt.flatMap { $0.utf8.allSatisfy({ $0 < 0x80 }) ? nil : NormalizedText.fold($0) }
        exactKey = CacheRequest.exactKey(prompt: request.prompt, folded: folded, in: namespace)
    }

    /// The prompt's features (those of the empty text for a request without a prompt),
    /// computed on first use with the prompt's words.
    mutating func analysed() -> PromptFeatures {
        if let features { return features }
        let words = NormalizedText(request.prompt ?? "", folded: folded)
        text = words
        let made = PromptFeatures(words)
        features = made
        return made
    }
}
