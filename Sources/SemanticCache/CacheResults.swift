public import Foundation
public import VectorIndex

/// A cached answer found for a request.
public struct CacheHit: Sendable {
    public enum Kind: String, Sendable {
        /// The normalised request matched exactly.
        case exact
        /// A similar prompt in the same namespace cleared the threshold and the guard.
        case semantic
    }

    public var kind: Kind
    public var key: UInt64
    /// 1 for an exact hit.
    public var similarity: Float
    public var response: Data
    public var namespace: Namespace
    public var promptTokens: Int
    public var completionTokens: Int
    /// Seconds since the entry was stored, at the lookup (HTTP's `Age`).
    public var age: Double
}

/// No cached answer; what the lookup saw, for shadow measurements and logs.
public struct CacheMiss: Sendable {
    public var namespace: Namespace
    /// The request's exact key: identical requests, and only they, share it.
    public var exactKey: Digest128
    /// The best similarity among live candidates of the namespace, hit or not.
    public var bestSimilarity: Float?
    /// The entry that had it.
    public var bestKey: UInt64?
    /// Why the best candidate above the threshold was refused, if one was.
    public var rejection: GuardRejection?
    /// The query's vector, when it was computed, so that storing the answer does not embed it again.
    public var vector: [Float]?
}

public enum LookupResult: Sendable {
    case hit(CacheHit)
    case miss(CacheMiss)

    public var hit: CacheHit? {
        if case .hit(let h) = self { return h }
        return nil
    }

    public var miss: CacheMiss? {
        if case .miss(let m) = self { return m }
        return nil
    }

    /// The namespace the request fell in.
    public var namespace: Namespace {
        switch self {
        case .hit(let h): h.namespace
        case .miss(let m): m.namespace
        }
    }
}

/// Per-request controls of a lookup.
public struct LookupOptions: Sendable {
    /// A threshold for this request; it can only raise the configured one.
    public var threshold: Float?
    /// Skip the similarity stage (exact matches only).
    public var semantic: Bool
    /// Count the lookup in the statistics.
    public var record: Bool
    /// Serve only an entry stored at most this many seconds ago (a client's
    /// `cache-control: max-age`); an older one is passed over as if it had expired.
    public var maxAge: Double?

    public init(threshold: Float? = nil, semantic: Bool = true, record: Bool = true, maxAge: Double? = nil) {
        self.threshold = threshold
        self.semantic = semantic
        self.record = record
        self.maxAge = maxAge
    }
}

/// One result of the lookup API's search.
public struct SearchMatch: Sendable {
    public var entry: EntrySummary
    public var similarity: Float
}

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

    enum CodingKeys: String, CodingKey {
        case entries, bytes, hits, semanticHits = "semantic_hits", misses, hitRate = "hit_rate"
        case savedPromptTokens = "saved_prompt_tokens", savedCompletionTokens = "saved_completion_tokens"
        case embedder, namespaces, namespaceCount = "namespace_count", index
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
