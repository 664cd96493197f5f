#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory of connections that closed back to the system.
///
/// Each open connection holds about 13 kB (docs/reliability.md). When they close, glibc's
/// allocator keeps the freed pages in its arenas for reuse, so a burst of 10,000 connections
/// left the process 120 MB larger for good. After a burst has ended (at least 1,000 fewer
/// connections than the period's peak, and at most half of it), ``CacheMaintenanceService``
/// asks glibc to return its free pages (`malloc_trim`), once per burst, off the request path.
struct ClosedConnectionMemory {
    let connections: OpenConnections
    static let burst = 1_000

    /// Trims when a burst of connections has closed since the last call; returns whether it did.
    func release() -> Bool {
        let peak = connections.takePeak()
        let now = connections.current
        guard peak - now >= Self.burst, now <= peak / 2 else { return false }
        guard let trim = Self.mallocTrim else { return false }
        _ = trim(0)
        return true
    }

    /// glibc's `malloc_trim`, looked up at run time: `<malloc.h>` is not part of Swift's Glibc
    /// module, and other C libraries do not have it.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
