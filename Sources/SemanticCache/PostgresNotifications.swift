import DejaSupport
import Synchronization

/// The notifications of one PostgreSQL channel: wakes the one waiter (a follower) when one comes,
/// so nothing polls while idle. A notification that came while nobody waited makes the next wait
/// return at once.
public final class PostgresNotifications: Sendable {
    private struct State {
        var pending = false
        var waiting: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let listenCount = Atomic<Int>(0)
    /// How many times listening began: once, plus once per dropped connection made again.
    public var listens: Int { listenCount.load(ordering: .relaxed) }

    /// Counts a (re)start of listening.
    func listening() {
        listenCount.add(1, ordering: .relaxed)
    }

    public init() {}

    public func signal() {
        let waiting = state.withLock { s in
            defer { s.waiting = nil }
            if s.waiting == nil { s.pending = true }
            return s.waiting
        }
        waiting?.resume()
    }

    /// Returns at the next notification (at once if one came since the last return), or
    /// after `timeout`.
    public func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s in
                if s.pending || s.waiting != nil {
                    s.pending = false
                    return true
                }
                s.waiting = continuation
                return false
            }
            if ready {
                continuation.resume()
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                let waiting = state.withLock { s in
                    defer { s.waiting = nil }
                    return s.waiting
                }
                waiting?.resume()
            }
        }
    }
}
