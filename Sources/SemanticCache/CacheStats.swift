public import Foundation
public import VectorIndex

/// The whole cache: totals, namespaces and the index.
public struct CacheStats: Sendable, Codable {
    public var entries: Int
    public var bytes: Int
    public var hits: Int
    public var semanticHits: Int
    public var misses: Int
    public var hitRate: Double
    public var savedPromptTokens: Int
    public var savedCompletionTokens: Int
    public var embedder: String
    /// By label; all of them, or those with the most lookups after ``busiest(_:)``.
    public var namespaces: [NamespaceStats]
    /// How many namespaces there are, listed or not.
    public var namespaceCount: Int
    public var index: IndexStats
    /// Verdicts on hits since the start: feedback, verifications, retired entries.
    public var verdicts: VerdictStats = .init()

    enum CodingKeys: String, CodingKey {
        case entries, bytes, hits, semanticHits = "semantic_hits", misses, hitRate = "hit_rate"
        case savedPromptTokens = "saved_prompt_tokens", savedCompletionTokens = "saved_completion_tokens"
        case embedder, namespaces, namespaceCount = "namespace_count", index, verdicts
    }

    /// The same statistics listing only the `limit` namespaces with the most lookups (still by
    /// label): a cache of conversations has a namespace per turn, too many to list whole.
    public func busiest(_ limit: Int) -> CacheStats {
        guard namespaces.count > limit else { return self }
        var copy = self
        copy.namespaces = namespaces
            .sorted { a, b in
                let (x, y) = (a.hits + a.semanticHits + a.misses, b.hits + b.semanticHits + b.misses)
                return x != y ? x > y : (a.label, a.namespace) < (b.label, b.namespace)
            }
            .prefix(max(0, limit))
            .sorted { ($0.label, $0.namespace) < ($1.label, $1.namespace) }
        return copy
    }
}
