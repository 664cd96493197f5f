public import Foundation

/// An entry without its response and vector: what the cache keeps in memory for every entry.
public struct EntrySummary: Sendable, Equatable {
    public var key: UInt64
    public var namespace: Namespace
    public var exactKey: Digest128
    public var prompt: String
    public var model: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastHitAt: Date?
    public var hitCount: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var byteSize: Int
    public var hasVector: Bool
    /// What feedback and verification taught about this entry's similar hits.
    public var trust: EntryTrust

    public init(
        key: UInt64, namespace: Namespace, exactKey: Digest128, prompt: String, model: String, createdAt: Date,
        expiresAt: Date?, lastHitAt: Date?, hitCount: Int, promptTokens: Int, completionTokens: Int, byteSize: Int,
        hasVector: Bool, trust: EntryTrust = .init()
    ) {
        self.trust = trust
        self.key = key
        self.namespace = namespace
        self.exactKey = exactKey
        self.prompt = prompt
        self.model = model
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastHitAt = lastHitAt
        self.hitCount = hitCount
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.byteSize = byteSize
        self.hasVector = hasVector
    }
}
