import DejaSupport
import Foundation

/// Lookup counters per namespace (totals since the store was created) and the hits not yet
/// written to the store. Hits are written in batches by ``SemanticCache/maintain()``: writing
/// each one would put a SQLite transaction on every cache hit.
final class LookupCounters: Sendable {
    private struct State {
        var totals: [Digest128: NamespaceCounters] = [:]
        var pending = UsageBatch()

        /// Applies `change` to the namespace's totals and to the batch not yet written.
        mutating func update(_ namespace: Namespace, _ change: (inout NamespaceCounters) -> Void) {
            var delta = NamespaceCounters(namespace: namespace.id, label: namespace.label)
            change(&delta)
            totals[namespace.id, default: NamespaceCounters(namespace: namespace.id, label: namespace.label)].add(delta)
            pending.counters[namespace.id, default: NamespaceCounters(namespace: namespace.id, label: namespace.label)].add(delta)
        }
    }

    private let state = Mutex(State())

    func load(_ counters: [NamespaceCounters]) {
        state.withLock { s in
            for c in counters { s.totals[c.namespace] = c }
        }
    }

    /// Counts a hit; `replacingMiss` takes back a miss counted for the same request before.
    func hit(_ hit: CacheHit, at time: Date, replacingMiss: Bool = false) {
        state.withLock { s in
            s.update(hit.namespace) { c in
                if replacingMiss { c.misses -= 1 }
                if hit.kind == .exact { c.hits += 1 } else { c.semanticHits += 1 }
                c.savedPromptTokens += hit.promptTokens
                c.savedCompletionTokens += hit.completionTokens
            }
            let previous = s.pending.hits[hit.key]
            s.pending.hits[hit.key] = ((previous?.count ?? 0) + 1, time)
        }
    }

    func miss(_ namespace: Namespace) {
        state.withLock { s in
            s.update(namespace) { $0.misses += 1 }
        }
    }

    /// Takes the pending batch (to write it); `restore` puts it back if writing failed.
    func takePending() -> UsageBatch {
        state.withLock { s in
            let batch = s.pending
            s.pending = UsageBatch()
            return batch
        }
    }

    func restore(_ batch: UsageBatch) {
        state.withLock { s in
            for (key, hit) in batch.hits {
                let now = s.pending.hits[key]
                s.pending.hits[key] = (hit.count + (now?.count ?? 0), max(hit.last, now?.last ?? hit.last))
            }
            for (id, c) in batch.counters { s.pending.counters[id, default: NamespaceCounters(namespace: id, label: c.label)].add(c) }
        }
    }

    func forget(_ namespace: Digest128) {
        state.withLock { s in
            s.totals.removeValue(forKey: namespace)
            s.pending.counters.removeValue(forKey: namespace)
        }
    }

    /// Namespaces with counters (those without entries included).
    var count: Int {
        state.withLock { s in s.totals.count }
    }

    /// The namespaces with counters for which `isIdle` holds, but not `target`.
    func namespaces(where isIdle: (Digest128) -> Bool, except target: Digest128) -> [Digest128] {
        state.withLock { s in s.totals.keys.filter { $0 != target && isIdle($0) } }
    }

    /// Adds the counters of `namespaces` to those of `target` and drops them (see
    /// ``SemanticCache/retireIdleCountersLocked()``).
    func merge(_ namespaces: [Digest128], into target: Digest128, label: String) {
        state.withLock { s in
            var sum = s.totals[target] ?? NamespaceCounters(namespace: target, label: label)
            for id in namespaces {
                if let c = s.totals.removeValue(forKey: id) { sum.add(c) }
            }
            s.totals[target] = sum
        }
    }

    var all: [Digest128: NamespaceCounters] {
        state.withLock { s in s.totals }
    }
}
