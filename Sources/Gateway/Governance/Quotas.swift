import DejaSupport
import Foundation
import HTTPTypes

/// The live state of every key's and tenant's limits: request and token buckets, requests in
/// flight, and money spent this day and month. One lock for all, taken once per check: the
/// work under it is a few dictionary lookups.
///
/// With a store several instances share (`shared`), the per-minute buckets live in the store
/// and a holder's local bucket is this instance's *lease* from it: it does not refill by time,
/// ``QuotaLeases`` tops it up. Requests in flight stay per instance.
final class Quotas: Sendable {
    /// One key's or tenant's state.
    struct Holder: Sendable {
        var requests: TokenBucket?
        var tokens: TokenBucket?
        var inFlight = 0
        var spend = Spend()
        /// Shared buckets only: the limits last seen, what the shared buckets held after the last
        /// exchange, what was spent since it, what a refused request lacked, and how many
        /// exchanges in a row found the holder unused.
        var rpm: Int?
        var tpm: Int?
        var sharedRequests = 0.0
        var sharedTokens = 0.0
        var usedRequests = 0.0
        var usedTokens = 0.0
        var shortRequests = 0.0
        var shortTokens = 0.0
        var idleExchanges = 0
        var lastExchange = 0.0
    }

    /// Whether the per-minute buckets are shared with other instances.
    let shared: Bool

    init(shared: Bool = false) {
        self.shared = shared
    }

    /// A refusal, before it becomes an HTTP error.
    enum Refusal: Error, Equatable {
        case requests(holder: String, limit: Int, retryAfter: Double)
        case tokens(holder: String, limit: Int, needed: Int, retryAfter: Double)
        case concurrency(holder: String, limit: Int)
        case budget(holder: String, budget: Double, period: BudgetPeriod, resets: Date)

        /// The metric's `kind`.
        var kind: String {
            switch self {
            case .requests: "requests"
            case .tokens: "tokens"
            case .concurrency: "concurrency"
            case .budget: "budget"
            }
        }
    }

    let holders = Mutex([String: Holder]())

    /// Spend recorded before this process started (from the ledger), by holder.
    func load(day: [String: Double], month: [String: Double], now: Date) {
        holders.withLock { holders in
            for (holder, spent) in month {
                holders[holder, default: Holder()].spend.roll(to: now)
                holders[holder]!.spend.month = spent
            }
            for (holder, spent) in day {
                holders[holder, default: Holder()].spend.roll(to: now)
                holders[holder]!.spend.day = spent
            }
        }
    }

    /// Admits one request of `grant`: a slot in flight and one request of each per-minute
    /// allowance, for the key and its tenant together (both or neither).
    func admitRequest(_ grant: Grant, now: Date) throws(Refusal) {
        let t = now.timeIntervalSince1970
        let keyLimits = grant.key.limits, tenantLimits = grant.tenant.limits
        let shared = shared
        let refusal: Refusal? = holders.withLock { holders in
            if let r = Self.checkRequest(&holders[grant.keyHolder, default: Holder()], keyLimits, grant.key.id, now: t, shared: shared) {
                return r
            }
            if let r = Self.checkRequest(
                &holders[grant.tenantHolder, default: Holder()], tenantLimits, grant.tenant.id, now: t, shared: shared)
            {
                return r
            }
            Self.take(&holders[grant.keyHolder]!, keyLimits)
            Self.take(&holders[grant.tenantHolder]!, tenantLimits)
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Refills `h`'s request bucket; the refusal if it has no slot or request left.
    private static func checkRequest(_ h: inout Holder, _ limits: Limits, _ name: String, now: Double, shared: Bool) -> Refusal? {
        if let max = limits.maxConcurrent, h.inFlight >= max { return .concurrency(holder: name, limit: max) }
        h.rpm = limits.rpm
        guard let rpm = limits.rpm else { return nil }
        if h.requests == nil { h.requests = TokenBucket(capacity: shared ? 0 : rpm, now: now) }
        if !shared { h.requests!.refill(capacity: rpm, now: now) }
        if h.requests!.level < 1 {
            h.shortRequests = 1
            let wait = shared ? sharedWait(for: 1, left: h.sharedRequests, capacity: rpm) : h.requests!.wait(for: 1, capacity: rpm)
            return .requests(holder: name, limit: rpm, retryAfter: wait)
        }
        return nil
    }

    /// Seconds until a shared bucket that held `left` after the last exchange has `amount`.
    private static func sharedWait(for amount: Double, left: Double, capacity: Int) -> Double {
        max(0.05, (amount - max(0, left)) / (Double(capacity) / 60))
    }

    private static func take(_ h: inout Holder, _ limits: Limits) {
        h.inFlight += 1
        if limits.rpm != nil {
            h.requests!.level -= 1
            h.usedRequests += 1
        }
    }

    /// Gives back the slot `admitRequest` took.
    func release(_ grant: Grant) {
        holders.withLock { holders in
            holders[grant.keyHolder]?.inFlight -= 1
            holders[grant.tenantHolder]?.inFlight -= 1
        }
    }

    /// Admits `estimate` provider tokens for a request going to the provider: neither budget
    /// spent, and both token allowances able to cover it (an estimate larger than a whole
    /// minute's allowance waits for a full bucket instead of never passing).
    func admitTokens(_ grant: Grant, estimate: Int, now: Date) throws(Refusal) {
        let keyLimits = grant.key.limits, tenantLimits = grant.tenant.limits
        guard keyLimits.tpm != nil || keyLimits.budgetUSD != nil || tenantLimits.tpm != nil || tenantLimits.budgetUSD != nil else {
            return
        }
        let shared = shared
        let refusal: Refusal? = holders.withLock { holders in
            if let r = Self.checkTokens(&holders[grant.keyHolder, default: Holder()], keyLimits, grant.key.id, estimate, now, shared) {
                return r
            }
            if let r = Self.checkTokens(
                &holders[grant.tenantHolder, default: Holder()], tenantLimits, grant.tenant.id, estimate, now, shared)
            {
                return r
            }
            if keyLimits.tpm != nil { Self.spendTokens(&holders[grant.keyHolder]!, estimate) }
            if tenantLimits.tpm != nil { Self.spendTokens(&holders[grant.tenantHolder]!, estimate) }
            return nil
        }
        if let refusal { throw refusal }
    }

    private static func spendTokens(_ h: inout Holder, _ estimate: Int) {
        h.tokens!.level -= Double(estimate)
        h.usedTokens += Double(estimate)
        h.shortTokens = 0
    }

    /// Whether `h` has budget left and tokens for `estimate`.
    private static func checkTokens(
        _ h: inout Holder, _ limits: Limits, _ name: String, _ estimate: Int, _ now: Date, _ shared: Bool
    ) -> Refusal? {
        if let budget = limits.budgetUSD {
            h.spend.roll(to: now)
            if h.spend.spent(in: limits.period) >= budget {
                return .budget(holder: name, budget: budget, period: limits.period, resets: limits.period.bounds(of: now).end)
            }
        }
        h.tpm = limits.tpm
        guard let tpm = limits.tpm else { return nil }
        let t = now.timeIntervalSince1970
        if h.tokens == nil { h.tokens = TokenBucket(capacity: shared ? 0 : tpm, now: t) }
        if !shared { h.tokens!.refill(capacity: tpm, now: t) }
        let needed = Double(min(estimate, tpm))
        if h.tokens!.level < needed {
            h.shortTokens = needed - h.tokens!.level
            let wait =
                shared ? sharedWait(for: h.shortTokens, left: h.sharedTokens, capacity: tpm) : h.tokens!.wait(for: needed, capacity: tpm)
            return .tokens(holder: name, limit: tpm, needed: estimate, retryAfter: wait)
        }
        return nil
    }

    /// Settles a request's tokens once its answer has ended: the difference between what was
    /// admitted and what the provider reports goes back to (or comes out of) the token buckets,
    /// which may go below zero after an answer larger than its estimate; the cost is spent.
    func settle(_ grant: Grant, reserved: Int, used: Int, cost: Double, now: Date) {
        let shared = shared
        holders.withLock { holders in
            Self.settle(
                &holders[grant.keyHolder, default: Holder()], grant.key.limits, reserved: reserved, used: used, cost: cost, now: now,
                shared: shared)
            Self.settle(
                &holders[grant.tenantHolder, default: Holder()], grant.tenant.limits, reserved: reserved, used: used, cost: cost, now: now,
                shared: shared)
        }
    }

    private static func settle(_ h: inout Holder, _ limits: Limits, reserved: Int, used: Int, cost: Double, now: Date, shared: Bool) {
        if let tpm = limits.tpm, reserved != used {
            let t = now.timeIntervalSince1970
            if h.tokens == nil { h.tokens = TokenBucket(capacity: shared ? 0 : tpm, now: t) }
            if !shared { h.tokens!.refill(capacity: tpm, now: t) }
            h.tokens!.level = min(Double(tpm), h.tokens!.level + Double(reserved - used))
            h.usedTokens += Double(used - reserved)
        }
        if cost > 0 {
            h.spend.roll(to: now)
            h.spend.day += cost
            h.spend.month += cost
        }
    }

    /// Sets the `x-ratelimit-*` headers for `grant` now: for each of requests and tokens, the
    /// tighter of the key's and the tenant's allowance (the one with less remaining). On every
    /// answer of a limited key, so written without keypaths or arrays.
    func addHeaders(_ grant: Grant, now: Date, to fields: inout HTTPFields) {
        let t = now.timeIntervalSince1970
        let shared = shared
        let (requests, tokens) = holders.withLock { holders in
            let key = holders[grant.keyHolder], tenant = holders[grant.tenantHolder]
            // Shared: what this instance holds plus what the shared bucket held at the last exchange.
            return (
                Self.tightest(
                    key?.requests, grant.key.limits.rpm, tenant?.requests, grant.tenant.limits.rpm, now: t,
                    shared: shared ? (key?.sharedRequests ?? 0, tenant?.sharedRequests ?? 0) : nil),
                Self.tightest(
                    key?.tokens, grant.key.limits.tpm, tenant?.tokens, grant.tenant.limits.tpm, now: t,
                    shared: shared ? (key?.sharedTokens ?? 0, tenant?.sharedTokens ?? 0) : nil))
        }
        // A forwarded answer brings the provider's own `x-ratelimit-*`, which Deja's replace; a
        // hit has none, and appending skips a scan of the fields per header.
        let replace = fields.contains { $0.name.canonicalName.hasPrefix("x-ratelimit-") }
        func set(_ name: HTTPField.Name, _ value: String) {
            if replace { fields[name] = value } else { fields.append(HTTPField(name: name, value: value)) }
        }
        if let requests {
            set(Self.limitRequests, String(requests.limit))
            set(Self.remainingRequests, String(requests.remaining))
            set(Self.resetRequests, Self.duration(requests.reset))
        }
        if let tokens {
            set(Self.limitTokens, String(tokens.limit))
            set(Self.remainingTokens, String(tokens.remaining))
            set(Self.resetTokens, Self.duration(tokens.reset))
        }
    }

    /// Of a key's and a tenant's bucket (either may have no limit), the one with less left.
    private static func tightest(
        _ a: TokenBucket?, _ aLimit: Int?, _ b: TokenBucket?, _ bLimit: Int?, now: Double, shared: (Double, Double)?
    ) -> (limit: Int, remaining: Int, reset: Double)? {
        func state(_ bucket: TokenBucket?, _ limit: Int?, _ elsewhere: Double?) -> (limit: Int, level: Double, reset: Double)? {
            guard let limit else { return nil }
            if let elsewhere {
                var bucket = bucket ?? TokenBucket(capacity: 0, now: now)
                bucket.level += elsewhere
                return (limit, bucket.level, bucket.reset(capacity: limit))
            }
            var bucket = bucket ?? TokenBucket(capacity: limit, now: now)
            bucket.refill(capacity: limit, now: now)
            return (limit, bucket.level, bucket.reset(capacity: limit))
        }
        let x = state(a, aLimit, shared?.0), y = state(b, bLimit, shared?.1)
        guard let pick = (x == nil ? y : y == nil ? x : (y!.level < x!.level ? y : x)) else { return nil }
        return (pick.limit, max(0, Int(pick.level.rounded(.down))), pick.reset)
    }

    static let limitRequests = HTTPField.Name("x-ratelimit-limit-requests")!
    static let remainingRequests = HTTPField.Name("x-ratelimit-remaining-requests")!
    static let resetRequests = HTTPField.Name("x-ratelimit-reset-requests")!
    static let limitTokens = HTTPField.Name("x-ratelimit-limit-tokens")!
    static let remainingTokens = HTTPField.Name("x-ratelimit-remaining-tokens")!
    static let resetTokens = HTTPField.Name("x-ratelimit-reset-tokens")!

    /// Seconds as OpenAI writes them in `x-ratelimit-reset-*`: `120ms`, `1.5s`, `6m0s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.up)))ms" }
        if seconds < 60 {
            let tenths = (seconds * 10).rounded(.up) / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
        }
        let whole = Int(seconds.rounded(.up))
        return "\(whole / 60)m\(whole % 60)s"
    }

    /// The state of one holder, for tests and the admin API.
    func holder(_ id: String) -> Holder? {
        holders.withLock { $0[id] }
    }
}
