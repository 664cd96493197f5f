import DejaSupport
import Synchronization

/// The client connections open now, shared by every connection's ``ConnectionGuard``, and the
/// most that may be (`server.max_connections`).
///
/// Past the limit a connection is still accepted (the kernel has completed it anyway, and a
/// client left in the listen queue would wait unanswered), but its request gets a 503 at once.
final class OpenConnections: Sendable {
    /// The most connections served at once; 0 for no limit.
    let limit: Int
    private let count = Atomic<Int>(0)
    /// The most open at once since ``takePeak()`` last read it.
    private let peak = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection. Returns `false`, without counting it, when it is one too many.
    func admit() -> Bool {
        let now = count.wrappingAdd(1, ordering: .relaxed).newValue
        if limit > 0 && now > limit {
            count.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        return true
    }

    /// Forgets an admitted connection that closed.
    func release() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The connections open now.
    var current: Int { count.load(ordering: .relaxed) }

    /// The most connections open at once since the last call, which starts the next period at
    /// the number open now.
    func takePeak() -> Int {
        max(peak.exchange(current, ordering: .relaxed), current)
    }
}
