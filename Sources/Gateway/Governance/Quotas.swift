import DejaSupport
import Foundation
import HTTPTypes

/// The live state of every key's and tenant's limits: request and token buckets, requests in
/// flight, and money spent this day and month. One lock for all, taken once per check: the
/// work under it is a few dictionary lookups.
final class Quotas: Sendable {
    /// One key's or tenant's state.
    struct Holder: Sendable {
        var requests: TokenBucket?
        var tokens: TokenBucket?
        var inFlight = 0
        var spend = Spend()
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

    private let holders = Mutex([String: Holder]())

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
        let refusal: Refusal? = holders.withLock { holders in
            if let r = Self.checkRequest(&holders[grant.keyHolder, default: Holder()], keyLimits, grant.key.id, now: t) { return r }
            if let r = Self.checkRequest(&holders[grant.tenantHolder, default: Holder()], tenantLimits, grant.tenant.id, now: t) {
                return r
            }
            Self.take(&holders[grant.keyHolder]!, keyLimits)
            Self.take(&holders[grant.tenantHolder]!, tenantLimits)
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Refills `h`'s request bucket; the refusal if it has no slot or request left.
    private static func checkRequest(_ h: inout Holder, _ limits: Limits, _ name: String, now: Double) -> Refusal? {
        if let max = limits.maxConcurrent, h.inFlight >= max { return .concurrency(holder: name, limit: max) }
        guard let rpm = limits.rpm else { return nil }
        if h.requests == nil { h.requests = TokenBucket(capacity: rpm, now: now) }
        h.requests!.refill(capacity: rpm, now: now)
        if h.requests!.level < 1 { return .requests(holder: name, limit: rpm, retryAfter: h.requests!.wait(for: 1, capacity: rpm)) }
        return nil
    }

    private static func take(_ h: inout Holder, _ limits: Limits) {
        h.inFlight += 1
        if limits.rpm != nil { h.requests!.level -= 1 }
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
        let refusal: Refusal? = holders.withLock { holders in
            if let r = Self.checkTokens(&holders[grant.keyHolder, default: Holder()], keyLimits, grant.key.id, estimate, now) {
                return r
            }
            if let r = Self.checkTokens(&holders[grant.tenantHolder, default: Holder()], tenantLimits, grant.tenant.id, estimate, now) {
                return r
            }
            if keyLimits.tpm != nil { holders[grant.keyHolder]!.tokens!.level -= Double(estimate) }
            if tenantLimits.tpm != nil { holders[grant.tenantHolder]!.tokens!.level -= Double(estimate) }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Whether `h` has budget left and tokens for `estimate`.
    private static func checkTokens(_ h: inout Holder, _ limits: Limits, _ name: String, _ estimate: Int, _ now: Date) -> Refusal? {
        if let budget = limits.budgetUSD {
            h.spend.roll(to: now)
            if h.spend.spent(in: limits.period) >= budget {
                return .budget(holder: name, budget: budget, period: limits.period, resets: limits.period.bounds(of: now).end)
            }
        }
        guard let tpm = limits.tpm else { return nil }
        let t = now.timeIntervalSince1970
        if h.tokens == nil { h.tokens = TokenBucket(capacity: tpm, now: t) }
        h.tokens!.refill(capacity: tpm, now: t)
        let needed = Double(min(estimate, tpm))
        if h.tokens!.level < needed {
            return .tokens(holder: name, limit: tpm, needed: estimate, retryAfter: h.tokens!.wait(for: needed, capacity: tpm))
        }
        return nil
    }

    /// Settles a request's tokens once its answer has ended: the difference between what was
    /// admitted and what the provider reports goes back to (or comes out of) the token buckets,
    /// which may go below zero after an answer larger than its estimate; the cost is spent.
    func settle(_ grant: Grant, reserved: Int, used: Int, cost: Double, now: Date) {
        holders.withLock { holders in
            Self.settle(&holders[grant.keyHolder, default: Holder()], grant.key.limits, reserved: reserved, used: used, cost: cost, now: now)
            Self.settle(
                &holders[grant.tenantHolder, default: Holder()], grant.tenant.limits, reserved: reserved, used: used, cost: cost, now: now)
        }
    }

    private static func settle(_ h: inout Holder, _ limits: Limits, reserved: Int, used: Int, cost: Double, now: Date) {
        if let tpm = limits.tpm, reserved != used {
            let t = now.timeIntervalSince1970
            if h.tokens == nil { h.tokens = TokenBucket(capacity: tpm, now: t) }
            h.tokens!.refill(capacity: tpm, now: t)
            h.tokens!.level = min(Double(tpm), h.tokens!.level + Double(reserved - used))
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
        let (requests, tokens) = holders.withLock { holders in
            let key = holders[grant.keyHolder], tenant = holders[grant.tenantHolder]
            return (
                Self.tightest(key?.requests, grant.key.limits.rpm, tenant?.requests, grant.tenant.limits.rpm, now: t),
                Self.tightest(key?.tokens, grant.key.limits.tpm, tenant?.tokens, grant.tenant.limits.tpm, now: t))
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
    private static func tightest(_ a: TokenBucket?, _ aLimit: Int?, _ b: TokenBucket?, _ bLimit: Int?, now: Double)
        -> (limit: Int, remaining: Int, reset: Double)?
    {
        func state(_ bucket: TokenBucket?, _ limit: Int?) -> (limit: Int, level: Double, reset: Double)? {
            guard let limit else { return nil }
            var bucket = bucket ?? TokenBucket(capacity: limit, now: now)
            bucket.refill(capacity: limit, now: now)
            return (limit, bucket.level, bucket.reset(capacity: limit))
        }
        let x = state(a, aLimit), y = state(b, bLimit)
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
