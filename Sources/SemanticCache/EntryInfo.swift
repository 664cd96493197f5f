import Foundation

/// What the cache keeps in memory about an entry: enough to find it, check it and rank it for
/// eviction without touching the store.
struct EntryInfo: Sendable {
    var namespace: Digest128
    var exactKey: Digest128
    var createdAt: Double
    var expiresAt: Double?
    var lastUsed: Double
    var byteSize: Int
    var features: PromptFeatures
    var promptTokens: Int
    var completionTokens: Int
    var hasVector: Bool
    /// What feedback and verification taught about this entry's similar hits.
    var trust = EntryTrust()
}
