public import Foundation

/// Runs blocking `body` (a socket read, a child process to completion) on a thread of its own,
/// so that Swift concurrency's pool, two threads on a 2-core machine, stays free for the
/// servers under test in the same process and for the tests running beside this one.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
