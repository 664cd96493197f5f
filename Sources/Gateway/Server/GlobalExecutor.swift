import NIOCore
import NIOPosix

/// Where Swift concurrency runs its tasks in `deja serve`.
public enum GlobalExecutor {
    /// Makes NIO's event loops Swift concurrency's global executor (as Vapor does by default).
    ///
    /// Hummingbird reads a request on an event loop and runs its handler as a task; on the
    /// default executor that task runs on another thread, so every request crosses threads twice
    /// and an upstream call through AsyncHTTPClient twice more. On a small machine each crossing
    /// wakes a sleeping thread. With the event loops as the executor, a handler runs on the loop
    /// that read its request, and the upstream call prefers a connection on that same loop.
    /// Measured on a 2-core test machine (docs/benchmarks.md), alternating with and without: hits at 64
    /// connections went from a median 13,800 to 18,500 requests/s and p99 from 10.0 to 7.6 ms.
    /// Work that may block runs on ``BlockingWorkExecutor`` instead.
    ///
    /// NIO runs each job isolated to its loop's serial executor, so every entry into a
    /// `@concurrent` (formerly plain nonisolated) `async` function enqueues the task again. Our
    /// modules are built with `NonisolatedNonsendingByDefault`, so that our own async functions
    /// run on their caller's executor and do not, and our checks are calls rather than layers of
    /// middleware; what is left is mostly Hummingbird's and NIO's (49–52 enqueues per semantic
    /// hit, 68–71 before, counted with a uprobe). A hook of our own that ran jobs on the generic
    /// executor cut that to one, yet cost more CPU per hit in every alternating round on a 2-core
    /// VM (median 239 against 193 µs); see docs/benchmarks.md. So NIO's takeover stays.
    ///
    /// Call it once, first thing in the process, before any task has started.
    /// - Returns: whether the executor was installed (`false` where the runtime hook is missing).
    @discardableResult
    public static func useEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
