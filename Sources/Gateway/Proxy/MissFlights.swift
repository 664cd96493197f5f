import DejaSupport
import Foundation
import SemanticCache

/// Identical misses in flight at once, so that they cost one upstream call, not one each.
///
/// When many clients ask the same new question at the same moment (a popular prompt after a
/// deploy, a retry storm, a page that fans out), every one of them misses: the answer is not
/// stored until the first call returns, seconds later. The first request of an exact key leads:
/// it calls the provider and stores the answer. A later identical request that is not streamed
/// follows: it waits for the leader to land, then looks the key up again and is answered from the
/// cache, or, if the leader failed or its answer was not cacheable, calls the provider itself.
/// (nginx calls this `proxy_cache_lock`; Varnish, request coalescing.)
///
/// Only exact keys meet here, so a follower gets exactly what it would have got from the cache a
/// moment later, within its own namespace (tenants never share a flight). Streamed requests lead
/// but never follow: waiting for a whole answer would hold back their first token.
final class MissFlights: Sendable {
    private struct State {
        var flights: [Digest128: Flight] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    private struct Flight {
        let id: UInt64
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    /// A leader's claim on a key. Landing it (after the answer is stored, or when the call
    /// fails) releases the followers; a ticket dropped without landing lands itself, so that no
    /// path out of a request, a thrown error or a client gone mid-stream included, leaves
    /// followers waiting.
    final class Ticket: Sendable {
        let flights: MissFlights
        let key: Digest128
        let id: UInt64

        fileprivate init(flights: MissFlights, key: Digest128, id: UInt64) {
            self.flights = flights
            self.key = key
            self.id = id
        }

        func land() { flights.land(key, id: id) }

        deinit { land() }
    }

    /// A ticket if no identical request is in flight (the caller leads), else `nil`.
    func lead(_ key: Digest128) -> Ticket? {
        let id: UInt64? = state.withLock { s in
            guard s.flights[key] == nil else { return nil }
            s.nextID += 1
            s.flights[key] = Flight(id: s.nextID)
            return s.nextID
        }
        return id.map { Ticket(flights: self, key: key, id: $0) }
    }

    /// Waits until the flight of `key` lands, at most `limit`; returns at once if there is none.
    func wait(for key: Digest128, upTo limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.landing(of: key) }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Suspends until the flight of `key` lands or the task is cancelled.
    private func landing(of key: Digest128) async {
        let waiter = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { s in
                    // Cancelled before it got here: the handler below found nothing to resume.
                    guard !Task.isCancelled, s.flights[key] != nil else { return false }
                    s.flights[key]!.waiters[waiter] = continuation
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.flights[key]?.waiters.removeValue(forKey: waiter) }
            continuation?.resume()
        }
    }

    /// Ends the flight `id` of `key` (no-op if it already ended) and wakes its followers.
    fileprivate func land(_ key: Digest128, id: UInt64) {
        let landed: Flight? = state.withLock { s in
            guard let flight = s.flights[key], flight.id == id else { return nil }
            s.flights[key] = nil
            return flight
        }
        for continuation in landed?.waiters.values ?? [:].values { continuation.resume() }
    }
}
