import Foundation

/// Lookup counters per namespace (totals since the store was created) and the hits not yet
/// written to the store. Hits are written in batches by ``SemanticCache/maintain()``: writing
/// each one would put a SQLite transaction on every cache hit.
final class _Usage: @unchecked Sendable {
    private let lock = NSLock()
    private var totals: [Digest128: NamespaceCounters] = [:]
    private var pending = UsageBatch()

    func load(_ counters: [NamespaceCounters]) {
        lock.lock()
        defer { lock.unlock() }
        for c in counters { totals[c.namespace] = c }
    }

    private func update(_ namespace: Namespace, _ change: (inout NamespaceCounters) -> Void) {
        var delta = NamespaceCounters(namespace: namespace.id, label: namespace.label)
        change(&delta)
        totals[namespace.id, default: NamespaceCounters(namespace: namespace.id, label: namespace.label)].add(delta)
        pending.counters[namespace.id, default: NamespaceCounters(namespace: namespace.id, label: namespace.label)].add(delta)
    }

    /// Counts a hit; `replacingMiss` takes back a miss counted for the same request before.
    func hit(_ hit: CacheHit, at time: Date, replacingMiss: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        update(hit.namespace) { c in
            if replacingMiss { c.misses -= 1 }
            if hit.kind == .exact { c.hits += 1 } else { c.semanticHits += 1 }
            c.savedPromptTokens += hit.promptTokens
            c.savedCompletionTokens += hit.completionTokens
        }
        let previous = pending.hits[hit.key]
        pending.hits[hit.key] = ((previous?.count ?? 0) + 1, time)
    }

    func miss(_ namespace: Namespace) {
        lock.lock()
        defer { lock.unlock() }
        update(namespace) { $0.misses += 1 }
    }

    /// Takes the pending batch (to write it); `restore` puts it back if writing failed.
    func takePending() -> UsageBatch {
        lock.lock()
        defer { lock.unlock() }
        let batch = pending
        pending = UsageBatch()
        return batch
    }

    func restore(_ batch: UsageBatch) {
        lock.lock()
        defer { lock.unlock() }
        for (key, hit) in batch.hits {
            let now = pending.hits[key]
            pending.hits[key] = (hit.count + (now?.count ?? 0), max(hit.last, now?.last ?? hit.last))
        }
        for (id, c) in batch.counters { pending.counters[id, default: NamespaceCounters(namespace: id, label: c.label)].add(c) }
    }

    func forget(_ namespace: Digest128) {
        lock.lock()
        defer { lock.unlock() }
        totals.removeValue(forKey: namespace)
        pending.counters.removeValue(forKey: namespace)
    }

    /// Namespaces with counters (those without entries included).
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return totals.count
    }

    /// The namespaces with counters for which `isIdle` holds, but not `target`.
    func namespaces(where isIdle: (Digest128) -> Bool, except target: Digest128) -> [Digest128] {
        lock.lock()
        defer { lock.unlock() }
        return totals.keys.filter { $0 != target && isIdle($0) }
    }

    /// Adds the counters of `namespaces` to those of `target` and drops them (see
    /// ``SemanticCache/retireIdleCountersLocked()``).
    func merge(_ namespaces: [Digest128], into target: Digest128, label: String) {
        lock.lock()
        defer { lock.unlock() }
        var sum = totals[target] ?? NamespaceCounters(namespace: target, label: label)
        for id in namespaces {
            if let c = totals.removeValue(forKey: id) { sum.add(c) }
        }
        totals[target] = sum
    }

    var all: [Digest128: NamespaceCounters] {
        lock.lock()
        defer { lock.unlock() }
        return totals
    }
}

/// A lock for async code: one holder at a time, waiters served in order. The cache's writes go
/// through it, so the store, the index and the catalog change in the same order.
actor _AsyncLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
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
