import Foundation

/// A lock for async code: one holder at a time, waiters served in order. The cache's writes go
/// through it, so the store, the index and the catalog change in the same order.
public actor AsyncLock {
    public init() {}

    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    nonisolated func run<T: Sendable>(_ body: () async throws(CacheError) -> T) async throws(CacheError) -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
