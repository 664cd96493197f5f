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
    /// The prompt's features, for the verifier and the guardrail.
    var features: PromptFeatures { sharedFeatures.value }
    /// Boxed, because a lookup copies the info of every candidate it weighs (out of the catalog's
    /// lock), and unboxed each copy retained and released the features' six collections: about
    /// 2 % of a semantic hit's CPU in `perf`. It also keeps the catalog's table small.
    var sharedFeatures: SharedFeatures
    var promptTokens: Int
    var completionTokens: Int
    var hasVector: Bool
    /// What feedback and verification taught about this entry's similar hits.
    var trust = EntryTrust()

    /// An entry's prompt features, immutable once computed and shared by every copy of its info.
    final class SharedFeatures: Sendable {
        let value: PromptFeatures
        init(_ value: PromptFeatures) { self.value = value }
    }
}
