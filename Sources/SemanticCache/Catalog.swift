import DejaSupport
import Foundation
import HeapModule

/// The in-memory catalog: entries by key, exact keys, namespaces and their sizes, under one
/// mutex (critical sections are dictionary operations, never I/O).
final class Catalog: Sendable {
    private struct State {
        var entries: [UInt64: EntryInfo] = [:]
        var byExact: [Digest128: UInt64] = [:]
        var byNamespace: [Digest128: Set<UInt64>] = [:]
        var labels: [Digest128: String] = [:]
        var bytes = 0
        var expiries = Heap<Expiry>()
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { s in s.entries.count } }
    var totalBytes: Int { state.withLock { s in s.bytes } }
    /// Namespaces holding at least one entry.
    var namespaceCount: Int { state.withLock { s in s.byNamespace.count } }

    func add(_ key: UInt64, _ info: EntryInfo, label: String) {
        state.withLock { s in
            if let old = s.entries.updateValue(info, forKey: key) { s.bytes -= old.byteSize }
            s.bytes += info.byteSize
            s.byExact[info.exactKey] = key
            s.byNamespace[info.namespace, default: []].insert(key)
            s.labels[info.namespace] = label
            if let at = info.expiresAt { s.expiries.insert(Expiry(at: at, key: key)) }
        }
    }

    /// Removes `key`; returns its info when it was present.
    @discardableResult
    func remove(_ key: UInt64) -> EntryInfo? {
        state.withLock { s in
            guard let info = s.entries.removeValue(forKey: key) else { return nil }
            s.bytes -= info.byteSize
            if s.byExact[info.exactKey] == key { s.byExact.removeValue(forKey: info.exactKey) }
            s.byNamespace[info.namespace]?.remove(key)
            if s.byNamespace[info.namespace]?.isEmpty == true {
                s.byNamespace.removeValue(forKey: info.namespace)
                s.labels.removeValue(forKey: info.namespace)
            }
            return info
        }
    }

    func info(_ key: UInt64) -> EntryInfo? { state.withLock { s in s.entries[key] } }

    func key(exact: Digest128) -> UInt64? { state.withLock { s in s.byExact[exact] } }

    func size(of namespace: Digest128) -> Int { state.withLock { s in s.byNamespace[namespace]?.count ?? 0 } }

    func keys(in namespace: Digest128) -> [UInt64] { state.withLock { s in Array(s.byNamespace[namespace] ?? []) } }

    func label(of namespace: Digest128) -> String? { state.withLock { s in s.labels[namespace] } }

    var namespaces: [(id: Digest128, label: String, entries: Int)] {
        state.withLock { s in s.byNamespace.map { ($0.key, s.labels[$0.key] ?? "", $0.value.count) } }
    }

    var allKeys: [UInt64] { state.withLock { s in Array(s.entries.keys) } }

    /// The `count` greatest keys below `before` (all when `nil`) of the namespaces in `only`
    /// (all when `nil`), greatest first: one page of a listing, newest first.
    ///
    /// A min-heap of `count` keys picks them in one pass, so a page costs O(n log count) and
    /// `count` words, not a copy and sort of every key.
    func newestKeys(in only: Set<Digest128>?, before: UInt64?, count: Int) -> [UInt64] {
        guard count > 0 else { return [] }
        let limit = before ?? .max
        var heap = Heap<UInt64>()
        func offer(_ key: UInt64) {
            if heap.count < count {
                heap.insert(key)
            } else if let least = heap.min, key > least {
                heap.replaceMin(with: key)
            }
        }
        state.withLock { s in
            if let only {
                for namespace in only { for key in s.byNamespace[namespace] ?? [] where key < limit { offer(key) } }
            } else {
                for key in s.entries.keys where key < limit { offer(key) }
            }
        }
        return heap.unordered.sorted(by: >)
    }

    /// The live entry an exact key names in `namespace`, stored at or after `storedSince`, marked
    /// used at `time`: the whole exact lookup under one lock.
    func exactHit(
        _ exact: Digest128, namespace: Digest128, at time: Double, storedSince: Double
    ) -> (key: UInt64, info: EntryInfo)? {
        state.withLock { s in
            guard let key = s.byExact[exact], var info = s.entries[key], info.namespace == namespace else { return nil }
            if let expires = info.expiresAt, expires <= time { return nil }
            if info.createdAt < storedSince { return nil }
            info.lastUsed = time
            s.entries[key] = info
            return (key, info)
        }
    }

    func touch(_ key: UInt64, at time: Double) {
        state.withLock { s in s.entries[key]?.lastUsed = time }
    }

    func setTrust(_ trust: EntryTrust, of key: UInt64) {
        state.withLock { s in s.entries[key]?.trust = trust }
    }

    /// Keys whose expiry is at or before `time`.
    ///
    /// Takes them off the expiry schedule: a caller that fails to delete them gives them back
    /// with ``scheduleExpiry(of:)``. Costs the expired entries (and stale items), not all
    /// entries: it runs every second under the lock that every lookup takes.
    func expired(at time: Double) -> [UInt64] {
        state.withLock { s in
            var out: [UInt64] = []
            var seen = Set<UInt64>()
            while let top = s.expiries.min, top.at <= time {
                s.expiries.popMin()
                // Skipped: an entry gone since, or an item pushed twice for the same entry.
                if let at = s.entries[top.key]?.expiresAt, at <= time, seen.insert(top.key).inserted { out.append(top.key) }
            }
            if s.expiries.count > 2 * max(s.entries.count, 1024) {
                s.expiries = Heap(s.entries.compactMap { e in e.value.expiresAt.map { Expiry(at: $0, key: e.key) } })
            }
            return out
        }
    }

    /// Puts entries back on the expiry schedule (their deletion failed; the next upkeep retries).
    func scheduleExpiry(of keys: [UInt64]) {
        state.withLock { s in
            for key in keys { if let at = s.entries[key]?.expiresAt { s.expiries.insert(Expiry(at: at, key: key)) } }
        }
    }

    /// Least recently used keys to drop so that at most `maxEntries` entries and `maxBytes` bytes
    /// remain, going down to `slack` (a fraction, e.g. 0.95) of the limits so that eviction
    /// runs in batches rather than on every insert.
    ///
    /// Only the copy of what the ranking needs is made under the lock that lookups take; the
    /// sort, the slow part on a large cache, runs outside it. An entry used between the two may
    /// still go, as if it had been used a moment later.
    func victims(maxEntries: Int, maxBytes: Int, slack: Double) -> [UInt64] {
        typealias Candidate = (lastUsed: Double, key: UInt64, size: Int)
        let (candidates, count, size): ([Candidate], Int, Int) = state.withLock { s in
            guard s.entries.count > maxEntries || s.bytes > maxBytes else { return ([], 0, 0) }
            return (s.entries.map { ($0.value.lastUsed, $0.key, $0.value.byteSize) }, s.entries.count, s.bytes)
        }
        guard !candidates.isEmpty else { return [] }
        let targetEntries = Int(Double(maxEntries) * slack)
        let targetBytes = Int(Double(maxBytes) * slack)
        var (left, leftBytes) = (count, size)
        var out: [UInt64] = []
        for c in candidates.sorted(by: { ($0.lastUsed, $0.key) < ($1.lastUsed, $1.key) })
        where left > targetEntries || leftBytes > targetBytes {
            out.append(c.key)
            left -= 1
            leftBytes -= c.size
        }
        return out
    }
}
