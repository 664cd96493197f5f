/// One group of the ledger summed: requests, hits, tokens, cost, and what the cache saved
/// (exact and semantic hits apart).
public struct UsageSummary: Codable, Sendable, Equatable {
    /// The group's value (a key id, tenant, model, day or hour); `all` for the total.
    public var group: String
    public var requests: Int
    public var exactHits: Int
    public var semanticHits: Int
    /// Answers with status 429 (rate limits and budgets).
    public var refused: Int
    public var errors: Int
    public var promptTokens: Int
    public var cachedTokens: Int
    public var completionTokens: Int
    public var cost: Double
    public var savedTokensExact: Int
    public var savedTokensSemantic: Int
    public var savedCostExact: Double
    public var savedCostSemantic: Double

    enum CodingKeys: String, CodingKey {
        case group, requests, exactHits = "exact_hits", semanticHits = "semantic_hits", refused, errors
        case promptTokens = "prompt_tokens", cachedTokens = "cached_tokens", completionTokens = "completion_tokens", cost
        case savedTokensExact = "saved_tokens_exact", savedTokensSemantic = "saved_tokens_semantic"
        case savedCostExact = "saved_cost_exact", savedCostSemantic = "saved_cost_semantic"
    }

    /// Hits over requests.
    public var hitRate: Double {
        requests == 0 ? 0 : Double(exactHits + semanticHits) / Double(requests)
    }
}
