import DejaSupport
import Foundation

/// Work started after a response went out (storing an answer in the cache), tracked so that a
/// graceful shutdown waits for it before the cache is closed. It runs on the
/// ``BlockingWorkExecutor``, away from the event loops that serve requests.
final class BackgroundWork: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func run(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { $0.running += 1 }
        Task(executorPreference: BlockingWorkExecutor.shared) {
            await body()
            self.finished()
        }
    }

    private func finished() {
        let ready = state.withLock { s in
            s.running -= 1
            guard s.running == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in ready { w.resume() }
    }

    /// Returns once no work is running.
    func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s in
                if s.running == 0 { return true }
                s.waiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }

    var count: Int {
        state.withLock { $0.running }
    }
}
