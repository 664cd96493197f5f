import DejaSupport
import Foundation

/// The usage ledger's rows on their way to the store: a request appends its row (a lock and an
/// array append, never I/O) and ``UsageLedgerService`` writes what gathered every
/// `usage.flush_interval` in one transaction. When the store falls behind, at most
/// `usage.max_pending` rows wait; rows beyond that are dropped and counted rather than held
/// without bound or making requests wait.
public final class UsageLedger: Sendable {
    private struct State {
        var pending: [UsageRecord] = []
        /// The rows of flushes that failed, each with its flush's batch id: written again as
        /// they were, so that a store that did commit them and only failed to say so does not
        /// count them twice. (Usually none or one: a flush retries these before taking more.)
        var unconfirmed: [(id: UUID, rows: [UsageRecord])] = []
        /// Rows of flushes under way (the service's, an admin request's), not yet confirmed.
        var inFlight = 0
        var dropped = 0
        var written = 0

        /// Every row held, for the `max_pending` bound.
        var waiting: Int { pending.count + unconfirmed.reduce(0) { $0 + $1.rows.count } + inFlight }
    }

    /// Seconds a store remembers a flush's batch id: far longer than a failed flush waits for
    /// the next one.
    static let batchMemory: Double = 86_400

    private let state = Mutex(State())
    let store: any GovernanceStore
    let maxPending: Int

    public init(store: any GovernanceStore, maxPending: Int) {
        self.store = store
        self.maxPending = maxPending
    }

    /// Queues a row; `false` when it was dropped (the queue is full).
    @discardableResult
    public func append(_ row: UsageRecord) -> Bool {
        state.withLock { s in
            guard s.waiting < maxPending else {
                s.dropped += 1
                return false
            }
            s.pending.append(row)
            return true
        }
    }

    /// Writes every queued row: first the rows of a flush that failed, again under that flush's
    /// batch id, then the rows queued since as a new batch. Rows a failing store did not confirm
    /// stay queued (they count towards `max_pending`) for the next flush.
    /// - Returns: how many rows were written.
    /// - Throws: the store's error.
    @discardableResult
    public func flush() async throws -> Int {
        var written = 0
        for batch in state.withLock({ $0.unconfirmed }) {
            try await store.append(batch.rows, batch: batch.id)
            // Another flush may have confirmed it meanwhile (the store wrote it once).
            state.withLock { s in
                guard let i = s.unconfirmed.firstIndex(where: { $0.id == batch.id }) else { return }
                s.unconfirmed.remove(at: i)
                s.written += batch.rows.count
                written += batch.rows.count
            }
        }
        let rows = state.withLock { s in
            defer {
                s.inFlight += s.pending.count
                s.pending = []
            }
            return s.pending
        }
        guard !rows.isEmpty else { return written }
        let id = UUID()
        do {
            try await store.append(rows, batch: id)
        } catch {
            state.withLock { s in
                s.inFlight -= rows.count
                s.unconfirmed.append((id, rows))
            }
            throw error
        }
        state.withLock { s in
            s.inFlight -= rows.count
            s.written += rows.count
        }
        return written + rows.count
    }

    /// The rows waiting to be written, a failed flush's first.
    func pendingRows() -> [UsageRecord] {
        state.withLock { $0.unconfirmed.flatMap(\.rows) + $0.pending }
    }

    /// Rows waiting, dropped since start and written since start.
    public var counts: (pending: Int, dropped: Int, written: Int) {
        state.withLock { ($0.waiting, $0.dropped, $0.written) }
    }
}
