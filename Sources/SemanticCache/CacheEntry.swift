public import Foundation

/// One cached answer.
public struct CacheEntry: Sendable, Equatable {
    /// Assigned by the store on insert, never reused.
    public var key: UInt64
    public var namespace: Namespace
    public var exactKey: Digest128
    /// The text that was embedded (the last user message), or the empty string.
    public var prompt: String
    /// The normalised embedding of ``prompt``; `nil` for an entry that only an exact match can hit.
    public var vector: [Float]?
    /// The full final response body (JSON), enough to replay it as JSON or as a stream.
    public var response: Data
    public var model: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastHitAt: Date?
    public var hitCount: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(
        key: UInt64 = 0, namespace: Namespace, exactKey: Digest128, prompt: String, vector: [Float]?, response: Data,
        model: String, createdAt: Date, expiresAt: Date?, lastHitAt: Date? = nil, hitCount: Int = 0,
        promptTokens: Int = 0, completionTokens: Int = 0
    ) {
        self.key = key
        self.namespace = namespace
        self.exactKey = exactKey
        self.prompt = prompt
        self.vector = vector
        self.response = response
        self.model = model
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastHitAt = lastHitAt
        self.hitCount = hitCount
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    /// What the entry costs against `max_bytes`: prompt, response and vector.
    public var byteSize: Int { prompt.utf8.count + response.count + (vector?.count ?? 0) * 4 }

    public var summary: EntrySummary {
        EntrySummary(
            key: key, namespace: namespace, exactKey: exactKey, prompt: prompt, model: model, createdAt: createdAt,
            expiresAt: expiresAt, lastHitAt: lastHitAt, hitCount: hitCount, promptTokens: promptTokens,
            completionTokens: completionTokens, byteSize: byteSize, hasVector: vector != nil)
    }
}
