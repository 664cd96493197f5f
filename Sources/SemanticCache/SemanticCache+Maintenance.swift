import DejaSupport
import Embedding
import Foundation
import Logging
import VectorIndex

extension SemanticCache {
    /// The periodic upkeep: writes pending hits and counters to the store, deletes expired
    /// entries, evicts down to capacity, and compacts the index when removed entries outnumber
    /// live ones. A gateway runs it every second or so; tests call it directly.
    ///
    /// A failed usage write does not stop the rest: the counters stay pending for the next
    /// round, and expiry and eviction, which free space, still run (a full disk is the likeliest
    /// reason for the failure). Its error is thrown after they ran.
    ///
    /// - Returns: how many entries expired.
    @discardableResult
    public func maintain() async throws(CacheError) -> Int {
        var usageError: CacheError?
        do { try await flushUsage() } catch { usageError = error }
        let now = clock.now().timeIntervalSince1970
        // Several instances on one store: one of them expires and evicts for all (the others
        // learn of the deletes as changes); an instance that cannot reach the store skips it.
        var leads = true
        if let feed = store as? any ChangeFeed {
            leads = (try? await feed.claimUpkeep(for: Self.upkeepLease, now: now)) ?? false
            upkeepLeader.withLock { $0 = leads }
        }
        let expired = try await writes.run { () throws(CacheError) in
            var expired = 0
            if leads {
                let due = catalog.expired(at: now)
                do throws(CacheError) {
                    expired = try await removeLocked(due)
                } catch {
                    catalog.scheduleExpiry(of: due)
                    throw error
                }
                try await evictLocked()
                try await retireIdleCountersLocked()
            }
            // Counted, not walked: `index.stats` visits every node, too much for every second.
            let (live, tombstones) = index.read { ($0.count, $0.tombstoneCount) }
            if tombstones > max(1024, live) {
                index.write { $0 = $0.compacted() }
                logger.info("index compacted: \(tombstones) removed entries dropped")
            }
            return expired
        }
        if let usageError { throw usageError }
        return expired
    }

    /// Seconds an instance holds the upkeep of a shared store without renewing it (it renews
    /// every upkeep, every second): how long expiry waits when the holder dies.
    static let upkeepLease = 10.0

    /// Whether this instance did the upkeep of a shared store at its last round (`true` with a
    /// store of its own).
    public var leadsUpkeep: Bool { upkeepLeader.withLock { $0 } }

    /// The namespace whose counters sum those of namespaces that had no entries left when
    /// there were more than `cache.idle_namespace_stats` of them.
    public static let retiredNamespace = Digest128(high: 0, low: 0)
    public static let retiredNamespaceLabel = "(namespaces without entries)"

    /// Sums the counters of namespaces without entries into ``retiredNamespace`` once there are
    /// more than `cache.idle_namespace_stats` of them: totals are kept, the detail of namespaces
    /// long gone is not. Checked every upkeep at the cost of two counts; the sweep runs once per
    /// that many new idle namespaces. Under the write lock, so no entry arrives meanwhile.
    func retireIdleCountersLocked() async throws(CacheError) {
        guard usage.count - catalog.namespaceCount > configuration.idleNamespaceStats + 1 else { return }
        // The live namespaces first, so that the usage's lock is never held while taking the catalog's.
        let live = Set(catalog.namespaces.map(\.id))
        let idle = usage.namespaces(where: { !live.contains($0) }, except: Self.retiredNamespace)
        guard idle.count > configuration.idleNamespaceStats else { return }
        try await flushUsage()
        try await store.mergeCounters(idle, into: Self.retiredNamespace, label: Self.retiredNamespaceLabel)
        usage.merge(idle, into: Self.retiredNamespace, label: Self.retiredNamespaceLabel)
        logger.info("the counters of \(idle.count) namespaces without entries were summed into one")
    }

    /// Writes the hits and counters gathered since the last call to the store.
    public func flushUsage() async throws(CacheError) {
        let batch = usage.takePending()
        guard !batch.isEmpty else { return }
        do {
            try await store.recordUsage(batch)
        } catch {
            usage.restore(batch)
            throw error
        }
    }

    /// Saves the index snapshot (with the embedder's identity) to ``indexPath``, atomically.
    /// The index is copied whole under the read lock, where searches go on and only inserts
    /// wait, and written outside it.
    public func saveIndex() async throws(CacheError) {
        guard let indexPath, !indexPath.isEmpty else { return }
        let snapshot = try await writes.run { () throws(CacheError) in index.read { $0.detachedCopy() } }
        let info = SnapshotInfo(format: 1, embedder: embedder.identity, dimension: embedder.dimension, entries: snapshot.count)
        let metadata = (try? JSONEncoder().encode(info)).map { Array($0) } ?? []
        do {
            try snapshot.save(to: indexPath, metadata: metadata)
        } catch {
            throw .index(error)
        }
    }

    /// Flushes usage and saves the index: call before the process exits. The snapshot is
    /// saved even when the counters cannot be written (it only needs the index file's folder),
    /// so that the next start is quick; the counters' error is thrown after it.
    public func close() async throws(CacheError) {
        await pairs?.close()
        var usageError: CacheError?
        do { try await flushUsage() } catch { usageError = error }
        try await saveIndex()
        if let usageError { throw usageError }
    }
}
