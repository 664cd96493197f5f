import Foundation

/// What the cache keeps in memory about an entry: enough to find it, check it and rank it for
/// eviction without touching the store.
struct _EntryInfo: Sendable {
    var namespace: Digest128
    var exactKey: Digest128
    var createdAt: Double
    var expiresAt: Double?
    var lastUsed: Double
    var byteSize: Int
    var features: PromptFeatures
    var promptTokens: Int
    var completionTokens: Int
    var hasVector: Bool
}

/// The in-memory catalog: entries by key, exact keys, namespaces and their sizes, under one
/// pthread lock (critical sections are dictionary operations, never I/O).
final class _Catalog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [UInt64: _EntryInfo] = [:]
    private var byExact: [Digest128: UInt64] = [:]
    private var byNamespace: [Digest128: Set<UInt64>] = [:]
    private var labels: [Digest128: String] = [:]
    private var bytes = 0
    private var expiries = _MinHeap<_Expiry>()

    @inline(__always)
    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    var count: Int { locked { entries.count } }
    var totalBytes: Int { locked { bytes } }
    /// Namespaces holding at least one entry.
    var namespaceCount: Int { locked { byNamespace.count } }

    func add(_ key: UInt64, _ info: _EntryInfo, label: String) {
        locked {
            if let old = entries.updateValue(info, forKey: key) { bytes -= old.byteSize }
            bytes += info.byteSize
            byExact[info.exactKey] = key
            byNamespace[info.namespace, default: []].insert(key)
            labels[info.namespace] = label
            if let at = info.expiresAt { expiries.push(_Expiry(at: at, key: key)) }
        }
    }

    /// Removes `key`; returns its info when it was present.
    @discardableResult
    func remove(_ key: UInt64) -> _EntryInfo? {
        locked {
            guard let info = entries.removeValue(forKey: key) else { return nil }
            bytes -= info.byteSize
            if byExact[info.exactKey] == key { byExact.removeValue(forKey: info.exactKey) }
            byNamespace[info.namespace]?.remove(key)
            if byNamespace[info.namespace]?.isEmpty == true {
                byNamespace.removeValue(forKey: info.namespace)
                labels.removeValue(forKey: info.namespace)
            }
            return info
        }
    }

    func info(_ key: UInt64) -> _EntryInfo? { locked { entries[key] } }

    func key(exact: Digest128) -> UInt64? { locked { byExact[exact] } }

    func size(of namespace: Digest128) -> Int { locked { byNamespace[namespace]?.count ?? 0 } }

    func keys(in namespace: Digest128) -> [UInt64] { locked { Array(byNamespace[namespace] ?? []) } }

    func label(of namespace: Digest128) -> String? { locked { labels[namespace] } }

    var namespaces: [(id: Digest128, label: String, entries: Int)] {
        locked { byNamespace.map { ($0.key, labels[$0.key] ?? "", $0.value.count) } }
    }

    var allKeys: [UInt64] { locked { Array(entries.keys) } }

    /// The `count` greatest keys below `before` (all when `nil`) of the namespaces in `only`
    /// (all when `nil`), greatest first: one page of a listing, newest first.
    ///
    /// A min-heap of `count` keys picks them in one pass, so a page costs O(n log count) and
    /// `count` words, not a copy and sort of every key.
    func newestKeys(in only: Set<Digest128>?, before: UInt64?, count: Int) -> [UInt64] {
        guard count > 0 else { return [] }
        let limit = before ?? .max
        var heap = _MinHeap<UInt64>(reservingCapacity: count)
        func offer(_ key: UInt64) {
            if heap.count < count {
                heap.push(key)
            } else if let least = heap.first, key > least {
                heap.popFirst()
                heap.push(key)
            }
        }
        locked {
            if let only {
                for namespace in only { for key in byNamespace[namespace] ?? [] where key < limit { offer(key) } }
            } else {
                for key in entries.keys where key < limit { offer(key) }
            }
        }
        return heap.items.sorted(by: >)
    }

    /// The live entry an exact key names in `namespace`, stored at or after `storedSince`, marked
    /// used at `time`: the whole exact lookup under one lock.
    func exactHit(
        _ exact: Digest128, namespace: Digest128, at time: Double, storedSince: Double
    ) -> (key: UInt64, info: _EntryInfo)? {
        locked {
            guard let key = byExact[exact], var info = entries[key], info.namespace == namespace else { return nil }
            if let expires = info.expiresAt, expires <= time { return nil }
            if info.createdAt < storedSince { return nil }
            info.lastUsed = time
            entries[key] = info
            return (key, info)
        }
    }

    func touch(_ key: UInt64, at time: Double) {
        locked { entries[key]?.lastUsed = time }
    }

    /// Keys whose expiry is at or before `time`.
    ///
    /// Takes them off the expiry schedule: a caller that fails to delete them gives them back
    /// with ``scheduleExpiry(of:)``. Costs the expired entries (and stale items), not all
    /// entries: it runs every second under the lock that every lookup takes.
    func expired(at time: Double) -> [UInt64] {
        locked {
            var out: [UInt64] = []
            var seen = Set<UInt64>()
            while let top = expiries.first, top.at <= time {
                expiries.popFirst()
                // Skipped: an entry gone since, or an item pushed twice for the same entry.
                if let at = entries[top.key]?.expiresAt, at <= time, seen.insert(top.key).inserted { out.append(top.key) }
            }
            if expiries.count > 2 * max(entries.count, 1024) {
                expiries = _MinHeap(entries.compactMap { e in e.value.expiresAt.map { _Expiry(at: $0, key: e.key) } })
            }
            return out
        }
    }

    /// Puts entries back on the expiry schedule (their deletion failed; the next upkeep retries).
    func scheduleExpiry(of keys: [UInt64]) {
        locked {
            for key in keys { if let at = entries[key]?.expiresAt { expiries.push(_Expiry(at: at, key: key)) } }
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
        let (candidates, count, size): ([Candidate], Int, Int) = locked {
            guard entries.count > maxEntries || bytes > maxBytes else { return ([], 0, 0) }
            return (entries.map { ($0.value.lastUsed, $0.key, $0.value.byteSize) }, entries.count, bytes)
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

/// Responses kept in memory in front of the store, up to a byte budget; the least recently used
/// go first, in batches.
final class _ResponseMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [UInt64: (data: Data, tick: UInt64)] = [:]
    private var tick: UInt64 = 0
    private var bytes = 0
    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    func get(_ key: UInt64) -> Data? {
        lock.lock()
        defer { lock.unlock() }
        tick += 1
        guard var item = items[key] else { return nil }
        item.tick = tick
        items[key] = item
        return item.data
    }

    func put(_ key: UInt64, _ data: Data) {
        guard data.count <= budget / 4 else { return }
        lock.lock()
        defer { lock.unlock() }
        tick += 1
        if let old = items.updateValue((data, tick), forKey: key) { bytes -= old.data.count }
        bytes += data.count
        if bytes > budget {
            for (k, v) in items.sorted(by: { $0.value.tick < $1.value.tick }) where bytes > budget * 3 / 4 {
                items.removeValue(forKey: k)
                bytes -= v.data.count
            }
        }
    }

    func remove(_ key: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if let old = items.removeValue(forKey: key) { bytes -= old.data.count }
    }
}
