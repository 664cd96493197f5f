#if DEJA_TSAN
import Foundation

/// The lock every module uses: the standard library's `Synchronization.Mutex`, except in the
/// ThreadSanitizer build (`make test-tsan` compiles with `-DDEJA_TSAN`), where it is this
/// `pthread_mutex_t` with the same `withLock`.
///
/// Why: on Linux the standard `Mutex` hands a contended lock over through a priority-inheriting
/// futex, inside the kernel, where ThreadSanitizer cannot see it; every contended `withLock`
/// then looks like a data race between two holders of the lock (15 such reports in one CI run,
/// all in `LookupCounters`). ThreadSanitizer intercepts `pthread_mutex_lock`, so with this type
/// it reports only races that exist.
public final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ initialValue: sending Value) {
        value = initialValue
        lock = UnsafeMutablePointer.allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
#else
/// The lock every module uses is the standard library's `Synchronization.Mutex`, re-exported
/// here so that the one build that swaps it (the `DEJA_TSAN` branch above) needs no change
/// in the files that use it.
@_exported public import Synchronization
#endif
