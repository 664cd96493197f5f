public import Foundation
public import VectorIndex

/// Counters of one namespace, with its size.
public struct NamespaceStats: Sendable, Codable, Equatable {
    public var namespace: String
    public var label: String
    public var entries: Int
    public var hits: Int
    public var semanticHits: Int
    public var misses: Int
    public var hitRate: Double
    public var savedPromptTokens: Int
    public var savedCompletionTokens: Int

    enum CodingKeys: String, CodingKey {
        case namespace, label, entries, hits, semanticHits = "semantic_hits", misses, hitRate = "hit_rate"
        case savedPromptTokens = "saved_prompt_tokens", savedCompletionTokens = "saved_completion_tokens"
    }
}
