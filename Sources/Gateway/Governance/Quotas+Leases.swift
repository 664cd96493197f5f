import DejaSupport
import Foundation

extension Quotas {
    /// Exchanges in a row without use after which a holder's lease is given back whole, so that
    /// idle instances do not sit on a limit others need (5 s at the service's 250 ms).
    static let idleExchanges = 20

    /// The leases to exchange now, for every holder with a per-minute limit or only `only`: each
    /// returns what its local bucket holds and asks for twice what it spent since the last
    /// exchange, at least a twentieth of the limit, plus what a refused request lacked; nothing
    /// once it has been idle ``idleExchanges`` times in a row.
    func leasesToExchange(only: [String]? = nil) -> [BucketLease] {
        holders.withLock { holders in
            var out: [BucketLease] = []
            func collect(_ id: String, _ h: inout Holder) {
                // A refused request is demand too: a holder refused for want of a lease is not idle.
                let idle = h.usedRequests == 0 && h.usedTokens == 0 && h.shortRequests == 0 && h.shortTokens == 0
                h.idleExchanges = idle ? h.idleExchanges + 1 : 0
                let keep = h.idleExchanges < Self.idleExchanges
                if let rpm = h.rpm {
                    let held = h.requests?.level ?? 0
                    let wanted = keep ? Self.lease(capacity: rpm, used: h.usedRequests, short: h.shortRequests) : 0
                    if wanted > 0 || held != 0 {
                        out.append(BucketLease(holder: id, kind: .requests, capacity: rpm, returned: held, wanted: wanted))
                    }
                }
                if let tpm = h.tpm {
                    let held = h.tokens?.level ?? 0
                    let wanted = keep ? Self.lease(capacity: tpm, used: h.usedTokens, short: h.shortTokens) : 0
                    if wanted > 0 || held != 0 {
                        out.append(BucketLease(holder: id, kind: .tokens, capacity: tpm, returned: held, wanted: wanted))
                    }
                }
                h.usedRequests = 0
                h.usedTokens = 0
            }
            if let only {
                for id in only where holders[id] != nil { collect(id, &holders[id]!) }
            } else {
                for id in holders.keys { collect(id, &holders[id]!) }
            }
            return out
        }
    }

    private static func lease(capacity: Int, used: Double, short: Double) -> Double {
        let floor = (Double(capacity) / 20).rounded(.up)
        return min(Double(capacity), max(floor, 2 * used) + short)
    }

    /// Takes in what an exchange gave: each local bucket loses what it returned (what was spent
    /// meanwhile stays spent) and gains its grant.
    func apply(_ leases: [BucketLease], _ grants: [BucketGrant], now: Double) {
        holders.withLock { holders in
            for (lease, grant) in zip(leases, grants) {
                guard var h = holders[lease.holder] else { continue }
                let (bucket, left, short) =
                    lease.kind == .requests
                    ? (\Holder.requests, \Holder.sharedRequests, \Holder.shortRequests)
                    : (\Holder.tokens, \Holder.sharedTokens, \Holder.shortTokens)
                var local = h[keyPath: bucket] ?? TokenBucket(capacity: 0, now: now)
                local.level += grant.granted - lease.returned
                local.updated = now
                h[keyPath: bucket] = local
                h[keyPath: left] = grant.left
                if grant.granted > 0 { h[keyPath: short] = 0 }
                h.lastExchange = now
                holders[lease.holder] = h
            }
        }
    }

    /// While the shared store cannot be reached: every local bucket refills by time as if this
    /// instance were alone, so that limited keys keep being served (each instance then allows the
    /// whole limit: the documented tolerance of an outage).
    func refillAlone(now: Double) {
        holders.withLock { holders in
            for id in holders.keys {
                if let rpm = holders[id]!.rpm { holders[id]!.requests?.refill(capacity: rpm, now: now) }
                if let tpm = holders[id]!.tpm { holders[id]!.tokens?.refill(capacity: tpm, now: now) }
            }
        }
    }

    /// Whether a refused request of `grant` should exchange at once: not when an exchange less
    /// than 50 ms ago found the shared buckets empty (a client over its limit then costs no
    /// database round trip per refusal).
    func shouldExchange(_ grant: Grant, now: Double) -> Bool {
        holders.withLock { holders in
            for id in [grant.keyHolder, grant.tenantHolder] {
                guard let h = holders[id] else { continue }
                if now - h.lastExchange < 0.05 && h.sharedRequests < 1 && (h.tpm == nil || h.sharedTokens < max(1, h.shortTokens)) {
                    return false
                }
            }
            return true
        }
    }

    /// Sets every holder's spend to `day` and `month` (absent: nothing spent), the totals of all
    /// instances from the shared ledger.
    func replaceSpend(day: [String: Double], month: [String: Double], now: Date) {
        holders.withLock { holders in
            for id in Set(holders.keys).union(day.keys).union(month.keys) {
                holders[id, default: Holder()].spend.roll(to: now)
                holders[id]!.spend.day = day[id] ?? 0
                holders[id]!.spend.month = month[id] ?? 0
            }
        }
    }
}
