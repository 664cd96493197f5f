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
        var dropped = 0
        var written = 0
    }

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
            guard s.pending.count < maxPending else {
                s.dropped += 1
                return false
            }
            s.pending.append(row)
            return true
        }
    }

    /// Writes every queued row. Rows a failing store did not take go back in front of the queue
    /// (within `max_pending`) for the next flush.
    /// - Returns: how many rows were written.
    /// - Throws: the store's error.
    @discardableResult
    public func flush() async throws -> Int {
        let rows = state.withLock { s in
            defer { s.pending = [] }
            return s.pending
        }
        guard !rows.isEmpty else { return 0 }
        do {
            try await store.append(rows)
        } catch {
            state.withLock { s in
                let room = max(0, maxPending - s.pending.count)
                let kept = rows.prefix(room)
                s.dropped += rows.count - kept.count
                s.pending = Array(kept) + s.pending
            }
            throw error
        }
        state.withLock { $0.written += rows.count }
        return rows.count
    }

    /// The rows waiting to be written.
    func pendingRows() -> [UsageRecord] {
        state.withLock { $0.pending }
    }

    /// Rows waiting, dropped since start and written since start.
    public var counts: (pending: Int, dropped: Int, written: Int) {
        state.withLock { ($0.pending.count, $0.dropped, $0.written) }
    }
}
