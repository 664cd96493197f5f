import HeapModule

/// Scratch objects for concurrent searches: a search takes one and gives it back.
///
/// Guarded by a pthread lock rather than `Synchronization.Mutex`, whose futex-based lock
/// ThreadSanitizer does not see (it reports the pool's array as raced).
/// `@unchecked Sendable` for that lock.
final class ScratchPool: @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var free: [SearchScratch] = []
    let dimension: Int
    let maxNeighbors: Int

    init(dimension: Int, maxNeighbors: Int) {
        self.dimension = dimension
        self.maxNeighbors = maxNeighbors
    }

    /// Runs `body` with a scratch object that no other thread uses meanwhile.
    @inline(__always)
    func withScratch<R, E: Error>(_ body: (SearchScratch) throws(E) -> R) throws(E) -> R {
        let scratch = lock.withWriteLock { free.popLast() }
            ?? SearchScratch(dimension: dimension, maxNeighbors: maxNeighbors)
        defer { lock.withWriteLock { free.append(scratch) } }
        return try body(scratch)
    }
}
