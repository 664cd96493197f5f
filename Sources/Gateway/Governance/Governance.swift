import DejaSupport
import HTTPTypes
public import Foundation
public import Logging
public import SemanticCache

/// Keys, limits, budgets, prices and the usage ledger of a running gateway.
///
/// ```swift
/// let governance = try await Governance.open(configuration, logger: logger)
/// let gateway = try Gateway(configuration: configuration, cache: cache, client: client, governance: governance)
/// ```
public final class Governance: Sendable {
    public let auth: AuthMode
    public let configuration: GovernanceConfiguration
    public let usage: UsageConfiguration
    public let administration: KeyAdministration
    public let ledger: UsageLedger
    let clock: any CacheClock
    let prices: PriceTable
    let quotas: Quotas
    /// With a store several instances share: this instance's leases on the per-minute buckets.
    let leases: QuotaLeases?
    let logger: Logger
    private let directory = Mutex(KeyDirectory())

    public var store: any GovernanceStore { administration.store }

    init(
        auth: AuthMode, configuration: GovernanceConfiguration, usage: UsageConfiguration, store: any GovernanceStore,
        prices: PriceTable, clock: any CacheClock, logger: Logger
    ) {
        self.auth = auth
        self.configuration = configuration
        self.usage = usage
        administration = KeyAdministration(store: store, clock: clock)
        ledger = UsageLedger(store: store, maxPending: usage.maxPending)
        if let shared = store as? any SharedLimitStore {
            quotas = Quotas(shared: true)
            leases = QuotaLeases(quotas: quotas, store: shared, clock: clock)
        } else {
            quotas = Quotas()
            leases = nil
        }
        self.prices = prices
        self.clock = clock
        self.logger = logger
    }

    /// Opens the store of `governance.store`, loads its keys and tenants, and what each spent in
    /// the current day and month (so that budgets hold across restarts).
    public static func open(
        _ configuration: DejaConfiguration, logger: Logger, clock: any CacheClock = SystemClock()
    ) async throws -> Governance {
        let store = try await openStore(configuration.governance, logger: logger)
        let governance = Governance(
            auth: configuration.server.auth, configuration: configuration.governance, usage: configuration.usage, store: store,
            prices: try PriceTable(configuration: configuration.governance, logger: logger), clock: clock, logger: logger)
        try await governance.reload()
        let now = clock.now()
        let month = try await store.spend(since: BudgetPeriod.month.bounds(of: now).start)
        let day = try await store.spend(since: BudgetPeriod.day.bounds(of: now).start)
        governance.quotas.load(day: holders(day), month: holders(month), now: now)
        return governance
    }

    /// The store `governance.store` names: a PostgreSQL database several instances share
    /// (`postgres://...`, its password from `PGPASSWORD`), else an SQLite file.
    public static func openStore(_ configuration: GovernanceConfiguration, logger: Logger) async throws(GovernanceError)
        -> any GovernanceStore
    {
        if PostgresPool.isURL(configuration.store) {
            return try await PostgresGovernanceStore(
                url: configuration.store, password: ProcessInfo.processInfo.environment["PGPASSWORD"], logger: logger)
        }
        return try SQLiteGovernanceStore(path: configuration.store)
    }

    /// With a shared store: sets what every key and tenant spent this day and month to the
    /// totals of all instances (the shared ledger's daily sums) plus this instance's rows not yet
    /// written. Called after each flush of the ledger, so budgets count other instances' spend
    /// within `usage.flush_interval` or so.
    func refreshSpend() async throws {
        guard quotas.shared else { return }
        let now = clock.now()
        let month = try await store.spend(since: BudgetPeriod.month.bounds(of: now).start)
        let day = try await store.spend(since: BudgetPeriod.day.bounds(of: now).start)
        let dayStart = BudgetPeriod.day.bounds(of: now).start.timeIntervalSince1970
        var dayTotals = Self.holders(day), monthTotals = Self.holders(month)
        for row in ledger.pendingRows() where row.cost != 0 {
            for holder in [row.keyID.map { "k:" + $0 }, row.tenant.isEmpty ? nil : "t:" + row.tenant].compactMap({ $0 }) {
                monthTotals[holder, default: 0] += row.cost
                if row.at >= dayStart { dayTotals[holder, default: 0] += row.cost }
            }
        }
        quotas.replaceSpend(day: dayTotals, month: monthTotals, now: now)
    }

    /// Spend by key and tenant as the quotas' holder names.
    static func holders(_ spend: (byKey: [String: Double], byTenant: [String: Double])) -> [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in spend.byKey { out["k:" + k] = v }
        for (t, v) in spend.byTenant { out["t:" + t] = v }
        return out
    }

    /// Reads the keys and tenants again and swaps the table in.
    public func reload() async throws {
        let table = KeyDirectory(keys: try await store.keys(), tenants: try await store.tenants())
        directory.withLock { $0 = table }
    }

    /// How many keys are live (not revoked), for the start-up line.
    public var keyCount: Int {
        directory.withLock { $0.grants.count }
    }

    // MARK: The request path

    /// The grant of the key a request presents (`server.auth: keys`).
    /// - Throws: 401 `invalid_api_key` for a missing, unknown, revoked or expired key.
    func authenticate(authorization: String?, apiKey: String?) throws(OpenAIError) -> Grant {
        guard let secret = KeySecret.presented(authorization: authorization, apiKey: apiKey) else {
            throw .unauthorized("Missing Deja key: send it as 'Authorization: Bearer dj-...' (or in x-api-key)")
        }
        let digest = KeyDigest(secret: secret)
        let (grant, revoked) = directory.withLock { ($0.grants[digest], $0.grants[digest] == nil ? $0.revoked[digest] : nil) }
        guard let grant else {
            if let revoked { throw .unauthorized("The Deja key \(revoked) was revoked") }
            throw .unauthorized("Unknown Deja key: check the key, or make one with `deja keys create`")
        }
        let now = clock.now()
        if let end = grant.key.expiresAt, end <= now {
            throw .unauthorized("The Deja key \(grant.key.id) expired at \(Self.timestamp(end))")
        }
        if let end = grant.tenant.expiresAt, end <= now {
            throw .unauthorized("The tenant \(grant.tenant.id) of this Deja key expired at \(Self.timestamp(end))")
        }
        return grant
    }

    /// - Throws: 403 `model_not_allowed` when the key or its tenant may not use `model`.
    func authorize(_ grant: Grant, model: String) throws(OpenAIError) {
        guard grant.allows(model: model) else {
            throw OpenAIError(
                status: .forbidden, message: "The Deja key \(grant.key.id) may not use the model '\(model)'",
                type: "permission_error", param: "model", code: "model_not_allowed")
        }
    }

    /// Takes a slot in flight and one request of the per-minute allowances. With shared buckets,
    /// a request refused for want of a lease exchanges at once and is judged again.
    /// - Throws: 429 when a limit is reached.
    func admitRequest(_ grant: Grant) async throws(OpenAIError) {
        do {
            try quotas.admitRequest(grant, now: clock.now())
        } catch {
            guard await exchanged(after: error, grant) else { throw error.openAIError }
            do {
                try quotas.admitRequest(grant, now: clock.now())
            } catch {
                throw error.openAIError
            }
        }
    }

    /// Whether a refusal was for want of a shared lease and an exchange has just run for it, so
    /// that the request is judged again: topped up from the shared bucket, or, when the store did
    /// not answer, refilled by time as if this instance were alone.
    private func exchanged(after refusal: Quotas.Refusal, _ grant: Grant) async -> Bool {
        guard let leases else { return false }
        switch refusal {
        case .requests, .tokens: break
        case .concurrency, .budget: return false
        }
        let now = clock.now().timeIntervalSince1970
        guard leases.reachable else {
            quotas.refillAlone(now: now)
            return true
        }
        guard quotas.shouldExchange(grant, now: now) else { return false }
        try? await leases.exchange(only: [grant.keyHolder, grant.tenantHolder])
        return true
    }

    func release(_ grant: Grant) {
        quotas.release(grant)
    }

    /// Admits a request on its way to the provider for `estimate` tokens.
    /// - Throws: 429 `rate_limit_exceeded` (tokens per minute) or `insufficient_quota` (budget).
    func admitTokens(_ grant: Grant, estimate: Int) async throws(OpenAIError) {
        do {
            try quotas.admitTokens(grant, estimate: estimate, now: clock.now())
        } catch {
            guard await exchanged(after: error, grant) else { throw error.openAIError }
            do {
                try quotas.admitTokens(grant, estimate: estimate, now: clock.now())
            } catch {
                throw error.openAIError
            }
        }
    }

    /// Sets the `x-ratelimit-*` headers of `grant` as they stand now (none when it has no
    /// per-minute limits).
    func addRateHeaders(_ grant: Grant, to fields: inout HTTPFields) {
        guard grant.hasRateLimits else { return }
        quotas.addHeaders(grant, now: clock.now(), to: &fields)
    }

    /// The completion allowance a request asks for: its `max_tokens` (or the newer names), else
    /// `governance.default_max_tokens`.
    func completionAllowance(_ body: JSONValue) -> Int {
        for field in ["max_completion_tokens", "max_tokens", "max_output_tokens"] {
            if let n = body[field]?.intValue, n > 0 { return Int(n) }
        }
        return configuration.defaultMaxTokens
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

extension Quotas.Refusal {
    /// The 429 a client sees: OpenAI's shape, `retry-after` and `retry-after-ms`; a spent budget
    /// is `insufficient_quota` with `x-should-retry: false`, since retrying cannot help before
    /// the period ends.
    var openAIError: OpenAIError {
        var e: OpenAIError
        switch self {
        case .requests(let holder, let limit, let wait):
            e = OpenAIError(
                status: .tooManyRequests,
                message: "Rate limit reached for \(holder): \(limit) requests per minute. Try again in \(Quotas.duration(wait))",
                type: "requests", code: "rate_limit_exceeded")
            e.retry(after: wait)
        case .tokens(let holder, let limit, let needed, let wait):
            e = OpenAIError(
                status: .tooManyRequests,
                message: "Rate limit reached for \(holder): \(limit) tokens per minute, and this request may use \(needed). "
                    + "Try again in \(Quotas.duration(wait))",
                type: "tokens", code: "rate_limit_exceeded")
            e.retry(after: wait)
        case .concurrency(let holder, let limit):
            e = OpenAIError(
                status: .tooManyRequests, message: "Too many requests in flight for \(holder): at most \(limit) at once",
                type: "requests", code: "rate_limit_exceeded")
            e.retry(after: 1)
        case .budget(let holder, let budget, let period, let resets):
            e = OpenAIError(
                status: .tooManyRequests,
                message: "The budget of \(holder) ($\(Self.dollars(budget)) per \(period.rawValue)) is spent; "
                    + "it resets at \(Governance.timestamp(resets))",
                type: "insufficient_quota", code: "insufficient_quota")
            e.headers["x-should-retry"] = "false"
        }
        e.headers["x-deja-refusal"] = kind
        return e
    }

    static func dollars(_ value: Double) -> String {
        let cents = Int((value * 100).rounded())
        let fraction = String(cents % 100)
        return "\(cents / 100)." + (fraction.count == 1 ? "0" : "") + fraction
    }
}

extension OpenAIError {
    /// Sets `retry-after` (whole seconds, at least 1) and `retry-after-ms`.
    mutating func retry(after seconds: Double) {
        headers["retry-after"] = String(max(1, Int(seconds.rounded(.up))))
        headers["retry-after-ms"] = String(max(1, Int((seconds * 1000).rounded(.up))))
    }
}
