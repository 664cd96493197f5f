public import Foundation

/// Lookup counters of one namespace.
public struct NamespaceCounters: Sendable, Equatable, Codable {
    public var namespace: Digest128
    public var label: String
    public var hits: Int = 0
    public var semanticHits: Int = 0
    public var misses: Int = 0
    /// Tokens the upstream did not have to process or generate thanks to hits.
    public var savedPromptTokens: Int = 0
    public var savedCompletionTokens: Int = 0

    public init(namespace: Digest128, label: String) {
        self.namespace = namespace
        self.label = label
    }

    public mutating func add(_ other: NamespaceCounters) {
        hits += other.hits
        semanticHits += other.semanticHits
        misses += other.misses
        savedPromptTokens += other.savedPromptTokens
        savedCompletionTokens += other.savedCompletionTokens
    }

    enum CodingKeys: String, CodingKey {
        case namespace, label, hits, semanticHits = "semantic_hits", misses
        case savedPromptTokens = "saved_prompt_tokens", savedCompletionTokens = "saved_completion_tokens"
    }
}
