import Dispatch

/// A task executor for work that must not run on the event loops: storing answers, the cache's
/// upkeep, index snapshots.
///
/// `deja serve` makes NIO's event loops Swift concurrency's global executor, so that a request
/// and its handler run on one thread (``GlobalExecutor/useEventLoops()``). Work started
/// with this executor as its preference runs on a concurrent dispatch queue instead, where a
/// long SQLite write or a snapshot of a large index cannot hold up requests waiting for I/O.
/// Without the takeover (tests, the library used alone) it behaves like the default pool.
public final class BlockingWorkExecutor: TaskExecutor {
    public static let shared = BlockingWorkExecutor()

    private let queue = DispatchQueue(label: "deja.blocking-work", qos: .utility, attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
