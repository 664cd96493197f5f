import Foundation
import DejaSupport
import SemanticCache

/// Keeps this instance's leases on the shared per-minute buckets topped up: every 250 ms for
/// every limited key and tenant (``SharedLimitsService``), and at once for a request refused for
/// want of a lease. One exchange at a time: two at once would both give back the same lease.
///
/// What this buys: across instances a limit is never exceeded (beyond an answer's tokens longer
/// than its estimate, as on one instance); what it costs: a request may be refused while another
/// instance holds unused lease (at most a twentieth of the limit each while busy, nothing after
/// 5 s idle), and while the store is unreachable each instance allows the whole limit alone.
final class QuotaLeases: Sendable {
    let quotas: Quotas
    let store: any SharedLimitStore
    let clock: any CacheClock
    private let turn = AsyncLock()
    /// Until when a refused request does not try an exchange itself: after a failed one, so that
    /// while the store is down a refusal does not wait out the store's timeout.
    private let unreachableUntil = Mutex(0.0)

    init(quotas: Quotas, store: any SharedLimitStore, clock: any CacheClock) {
        self.quotas = quotas
        self.store = store
        self.clock = clock
    }

    /// Whether a refused request may exchange at once (the store answered lately).
    var reachable: Bool {
        unreachableUntil.withLock { $0 } <= clock.now().timeIntervalSince1970
    }

    /// One exchange, of `only` those holders or of all. A request's exchange (`only`) that finds
    /// the store unreachable by the time its turn comes (the exchange before it failed) lets the
    /// buckets refill alone instead of waiting out another timeout.
    /// - Throws: the store's error, after letting every local bucket refill alone.
    func exchange(only: [String]? = nil) async throws {
        await turn.acquire()
        var failure: (any Error)?
        if only != nil && !reachable {
            quotas.refillAlone(now: clock.now().timeIntervalSince1970)
        } else {
            let leases = quotas.leasesToExchange(only: only)
            if !leases.isEmpty {
                do {
                    let grants = try await store.exchange(leases, now: clock.now().timeIntervalSince1970)
                    quotas.apply(leases, grants, now: clock.now().timeIntervalSince1970)
                } catch {
                    let now = clock.now().timeIntervalSince1970
                    quotas.refillAlone(now: now)
                    unreachableUntil.withLock { $0 = now + 1 }
                    failure = error
                }
            }
        }
        await turn.release()
        if let failure { throw failure }
    }
}
