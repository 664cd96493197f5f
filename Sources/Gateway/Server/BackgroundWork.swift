import Foundation

/// Work started after a response went out (storing an answer in the cache), tracked so that a
/// graceful shutdown waits for it before the cache is closed. It runs on the
/// ``BlockingWorkExecutor``, away from the event loops that serve requests.
final class BackgroundWork: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run(_ body: @escaping @Sendable () async -> Void) {
        lock.lock()
        running += 1
        lock.unlock()
        Task(executorPreference: BlockingWorkExecutor.shared) {
            await body()
            self.finished()
        }
    }

    private func finished() {
        lock.lock()
        running -= 1
        let ready = running == 0 ? waiters : []
        if running == 0 { waiters = [] }
        lock.unlock()
        for w in ready { w.resume() }
    }

    /// Returns once no work is running.
    func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if running == 0 {
                lock.unlock()
                c.resume()
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return running
    }
}
