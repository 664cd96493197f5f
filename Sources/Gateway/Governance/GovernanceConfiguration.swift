/// Keys, tenants, prices and the usage ledger (`governance:`). Keys and tenants themselves are
/// not configuration: they live in the governance store, made with `deja keys` and
/// `deja tenants` or the admin API.
public struct GovernanceConfiguration: Codable, Sendable, Equatable {
    /// The SQLite file of keys, tenants and the usage ledger; relative paths are resolved against
    /// the configuration file's folder.
    public var store: String
    /// Prices by model name (as the provider calls it), in dollars per million tokens, over the
    /// shipped table (``DefaultPrices``) and `prices_file`.
    public var prices: [String: ModelPrice]
    /// A YAML file of prices in the shape of `prices`, read at start, over the shipped table.
    public var pricesFile: String
    /// The completion tokens a request that sets no `max_tokens` is admitted for by a
    /// tokens-per-minute limit (settled from the provider's `usage` when its answer ends).
    public var defaultMaxTokens: Int
    /// Seconds between reloads of the keys and tenants from the store, which picks up changes
    /// made with `deja keys` on the file while the gateway runs (changes made through the admin
    /// API apply at once).
    public var reloadInterval: Double

    public init(
        store: String = "deja-governance.sqlite", prices: [String: ModelPrice] = [:], pricesFile: String = "",
        defaultMaxTokens: Int = 1024, reloadInterval: Double = 5
    ) {
        self.store = store
        self.prices = prices
        self.pricesFile = pricesFile
        self.defaultMaxTokens = defaultMaxTokens
        self.reloadInterval = reloadInterval
    }

    enum CodingKeys: String, CodingKey {
        case store, prices, pricesFile = "prices_file", defaultMaxTokens = "default_max_tokens"
        case reloadInterval = "reload_interval"
    }

    public init(from decoder: any Decoder) throws {
        let d = GovernanceConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        store = try c.decodeIfPresent(String.self, forKey: .store) ?? d.store
        prices = try c.decodeIfPresent([String: ModelPrice].self, forKey: .prices) ?? d.prices
        pricesFile = try c.decodeIfPresent(String.self, forKey: .pricesFile) ?? d.pricesFile
        defaultMaxTokens = try c.decodeIfPresent(Int.self, forKey: .defaultMaxTokens) ?? d.defaultMaxTokens
        reloadInterval = try c.decodeIfPresent(Double.self, forKey: .reloadInterval) ?? d.reloadInterval
    }

    var problems: [String] {
        var out: [String] = []
        if store.isEmpty { out.append("governance.store: must name a file") }
        if !(1...1_000_000).contains(defaultMaxTokens) {
            out.append("governance.default_max_tokens: must be between 1 and 1000000, got \(defaultMaxTokens)")
        }
        if !(reloadInterval >= 0.1 && reloadInterval <= 3_600) {
            out.append("governance.reload_interval: must be between 0.1 and 3600 seconds, got \(reloadInterval)")
        }
        for (model, price) in prices.sorted(by: { $0.key < $1.key }) {
            out += price.problems.map { "governance.prices.\(model).\($0)" }
        }
        return out
    }
}
