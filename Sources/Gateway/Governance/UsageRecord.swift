/// One row of the usage ledger: one proxied request. Never a secret and never prompt text.
public struct UsageRecord: Sendable, Equatable {
    /// Seconds since 1970 when the response ended.
    public var at: Double
    public var requestID: String
    /// `nil` for a request without a key (`server.auth: none`, or refused before one was found).
    public var keyID: String?
    /// Empty without a key.
    public var tenant: String
    /// The route's path pattern (`/v1/chat/completions`).
    public var route: String
    /// The model the client asked for.
    public var model: String?
    /// The model and provider that answered (`nil` for a hit or a refusal).
    public var upstreamModel: String?
    public var provider: String?
    public var status: Int
    public var latencyMs: Double
    /// Time to the first byte of a streamed answer.
    public var firstTokenMs: Double?
    public var promptTokens: Int = 0
    /// Prompt tokens the provider served from its own prompt cache (billed at its cached price).
    public var cachedTokens: Int = 0
    public var completionTokens: Int = 0
    public var cost: Double = 0
    /// What a hit would have cost from the provider: its stored answer's tokens at the model's price.
    public var savedPromptTokens: Int = 0
    public var savedCompletionTokens: Int = 0
    public var savedCost: Double = 0
    /// `hit`, `semantic-hit`, `miss`, `bypass`, ... as in `x-deja-cache`; `nil` when the cache
    /// was not consulted.
    public var cache: String?
    public var similarity: Float?

    public init(at: Double, requestID: String, keyID: String?, tenant: String, route: String, status: Int, latencyMs: Double) {
        self.at = at
        self.requestID = requestID
        self.keyID = keyID
        self.tenant = tenant
        self.route = route
        self.status = status
        self.latencyMs = latencyMs
    }
}
