import DejaSupport
import Foundation

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
        let parts = [(grant.keyHolder, grant.key.limits, grant.key.id), (grant.tenantHolder, grant.tenant.limits, grant.tenant.id)]
        let refusal: Refusal? = holders.withLock { holders in
            for (holder, limits, name) in parts {
                var h = holders[holder] ?? Holder()
                if let max = limits.maxConcurrent, h.inFlight >= max { return .concurrency(holder: name, limit: max) }
                if let rpm = limits.rpm {
                    var bucket = h.requests ?? TokenBucket(capacity: rpm, now: t)
                    bucket.refill(capacity: rpm, now: t)
                    h.requests = bucket
                    holders[holder] = h
                    if bucket.level < 1 { return .requests(holder: name, limit: rpm, retryAfter: bucket.wait(for: 1, capacity: rpm)) }
                }
            }
            for (holder, limits, _) in parts {
                holders[holder, default: Holder()].inFlight += 1
                if limits.rpm != nil { holders[holder]!.requests!.level -= 1 }
            }
            return nil
        }
        if let refusal { throw refusal }
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
        let t = now.timeIntervalSince1970
        let parts = [(grant.keyHolder, grant.key.limits, grant.key.id), (grant.tenantHolder, grant.tenant.limits, grant.tenant.id)]
        let refusal: Refusal? = holders.withLock { holders in
            for (holder, limits, name) in parts {
                var h = holders[holder] ?? Holder()
                h.spend.roll(to: now)
                if let budget = limits.budgetUSD, h.spend.spent(in: limits.period) >= budget {
                    holders[holder] = h
                    return .budget(holder: name, budget: budget, period: limits.period, resets: limits.period.bounds(of: now).end)
                }
                if let tpm = limits.tpm {
                    var bucket = h.tokens ?? TokenBucket(capacity: tpm, now: t)
                    bucket.refill(capacity: tpm, now: t)
                    h.tokens = bucket
                    let needed = Double(min(estimate, tpm))
                    if bucket.level < needed {
                        holders[holder] = h
                        return .tokens(holder: name, limit: tpm, needed: estimate, retryAfter: bucket.wait(for: needed, capacity: tpm))
                    }
                }
                holders[holder] = h
            }
            for (holder, limits, _) in parts where limits.tpm != nil {
                holders[holder]!.tokens!.level -= Double(estimate)
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Settles a request's tokens once its answer has ended: the difference between what was
    /// admitted and what the provider reports goes back to (or comes out of) the token buckets,
    /// which may go below zero after an answer larger than its estimate; the cost is spent.
    func settle(_ grant: Grant, reserved: Int, used: Int, cost: Double, now: Date) {
        let t = now.timeIntervalSince1970
        holders.withLock { holders in
            for (holder, limits) in [(grant.keyHolder, grant.key.limits), (grant.tenantHolder, grant.tenant.limits)] {
                var h = holders[holder] ?? Holder()
                if let tpm = limits.tpm, reserved != used {
                    var bucket = h.tokens ?? TokenBucket(capacity: tpm, now: t)
                    bucket.refill(capacity: tpm, now: t)
                    bucket.level = min(Double(tpm), bucket.level + Double(reserved - used))
                    h.tokens = bucket
                }
                if cost > 0 {
                    h.spend.roll(to: now)
                    h.spend.day += cost
                    h.spend.month += cost
                }
                holders[holder] = h
            }
        }
    }

    /// What the `x-ratelimit-*` headers say for `grant` now: for each of requests and tokens,
    /// the tighter of the key's and the tenant's allowance (the one with less remaining).
    func headers(_ grant: Grant, now: Date) -> [(String, String)] {
        let t = now.timeIntervalSince1970
        return holders.withLock { holders in
            var out: [(String, String)] = []
            for (kind, limitPath, bucketPath) in [
                ("requests", \Limits.rpm, \Holder.requests), ("tokens", \Limits.tpm, \Holder.tokens),
            ] {
                var tightest: (limit: Int, remaining: Double, reset: Double)?
                for (holder, limits) in [(grant.keyHolder, grant.key.limits), (grant.tenantHolder, grant.tenant.limits)] {
                    guard let limit = limits[keyPath: limitPath] else { continue }
                    var bucket = holders[holder]?[keyPath: bucketPath] ?? TokenBucket(capacity: limit, now: t)
                    bucket.refill(capacity: limit, now: t)
                    if tightest == nil || bucket.level < tightest!.remaining {
                        tightest = (limit, bucket.level, bucket.reset(capacity: limit))
                    }
                }
                if let tightest {
                    out.append(("x-ratelimit-limit-\(kind)", String(tightest.limit)))
                    out.append(("x-ratelimit-remaining-\(kind)", String(max(0, Int(tightest.remaining.rounded(.down))))))
                    out.append(("x-ratelimit-reset-\(kind)", Self.duration(tightest.reset)))
                }
            }
            return out
        }
    }

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
