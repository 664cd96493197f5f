public import Embedding
import Foundation
public import Logging
import DejaSupport
import VectorIndex

extension SemanticCache {
    /// What the cache writes into its index snapshot, to know whether the snapshot fits.
    struct SnapshotInfo: Codable {
        var format: Int
        var embedder: String
        var dimension: Int
        var entries: Int
    }

    /// Opens the cache: checks that the store's vectors come from `embedder`, loads the index
    /// snapshot when it fits and reconciles it with the store (entries missing from the
    /// snapshot are inserted, entries gone from the store removed), or rebuilds the index from
    /// the store's vectors on every core when there is no usable snapshot.
    ///
    /// - Parameters:
    ///   - indexPath: the snapshot file (`nil`: always rebuild, never save).
    ///   - clock: the time source (TTL).
    /// - Throws: ``CacheError/embedderMismatch(store:stored:configured:)`` when the store was
    ///   built with another embedder and `rebuild_on_embedder_change` is off;
    ///   ``CacheError/storeLost(store:snapshot:entries:)`` when the store is new or empty but the
    ///   snapshot holds entries; ``CacheError/store(_:)``.
    public static func open(
        configuration: CacheConfiguration, embedder: any Embedder, store: any CacheStore, indexPath: String? = nil,
        clock: any CacheClock = SystemClock(), logger: Logger = Logger(label: "deja.cache"),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) async throws(CacheError) -> SemanticCache {
        try configuration.validate()
        let (decision, note) = try HitDecision.resolve(configuration.verifier, embedder: embedder.identity)
        if let note { logger.notice("\(note)") }
        let stored = try await store.metadata("embedder")
        var reembed = false
        if let stored, stored != embedder.identity {
            guard configuration.rebuildOnEmbedderChange else {
                throw .embedderMismatch(store: store.location, stored: stored, configured: embedder.identity)
            }
            reembed = true
        }
        // A shared store's changes are followed from the last one before the entries are read: a
        // change made while they are read is applied again, which is harmless.
        let followedFrom = try await (store as? any ChangeFeed)?.lastSequence() ?? 0
        let summaries = try await store.summaries()
        var index: HNSWIndex?
        if !reembed, let indexPath, FileManager.default.fileExists(atPath: indexPath) {
            index = Self.loadSnapshot(indexPath, embedder: embedder, configuration: configuration, logger: logger)
        }
        // A store that has never held a cache (no embedder recorded: a new, empty or replaced
        // file) beside a snapshot of entries means the store was lost, not that the cache is new:
        // reconciling would drop every vector of the snapshot. Refused, and the snapshot is left.
        if stored == nil, summaries.isEmpty, let index, index.count > 0, let indexPath {
            throw .storeLost(store: store.location, snapshot: indexPath, entries: index.count)
        }
        if reembed {
            try await Self.reembed(summaries, embedder: embedder, store: store, logger: logger)
        }
        if stored == nil || reembed {
            try await store.setMetadata("embedder", embedder.identity)
        }
        let wanted = Dictionary(uniqueKeysWithValues: summaries.filter(\.hasVector).map { ($0.key, $0.namespace.tag) })
        let built: HNSWIndex
        do {
            if var loaded = index {
                let stale = loaded.keys.filter { wanted[$0] == nil }
                for key in stale { loaded.remove(key: key) }
                let missing = wanted.keys.filter { !loaded.contains(key: $0) }.sorted()
                try await Self.bulkInsert(missing, tags: wanted, into: &loaded, store: store)
                if !stale.isEmpty || !missing.isEmpty {
                    logger.info("index snapshot reconciled with the store: \(missing.count) added, \(stale.count) removed")
                }
                built = loaded
            } else {
                var fresh = try HNSWIndex(
                    dimension: embedder.dimension, configuration: configuration.hnsw, capacity: max(wanted.count, 1024))
                try await Self.bulkInsert(wanted.keys.sorted(), tags: wanted, into: &fresh, store: store)
                if !wanted.isEmpty { logger.info("index rebuilt from the store: \(wanted.count) vectors") }
                built = fresh
            }
        } catch let error as IndexError {
            throw .index(error)
        } catch let error as CacheError {
            throw error
        } catch {
            throw .store(String(describing: error))
        }

        let catalog = Catalog()
        for s in summaries {
            catalog.add(
                s.key, Self.info(s, features: PromptFeatures(s.prompt), lastUsed: s.lastHitAt ?? s.createdAt),
                label: s.namespace.label)
        }
        let pairs = configuration.pairsLog.file.isEmpty
            ? nil : try PairsLog(configuration: configuration.pairsLog, store: store, logger: logger)
        let cache = SemanticCache(
            configuration: configuration, embedder: embedder, store: store, indexPath: indexPath, index: built,
            catalog: catalog, clock: clock, logger: logger, pairs: pairs, decision: decision, random: random)
        cache.usage.load(try await store.namespaceCounters())
        cache.followed.withLock { $0 = followedFrom }
        return cache
    }

    /// The snapshot at `path` when it was made with this embedder and these graph parameters;
    /// otherwise `nil` (with a warning saying why), so that the index is rebuilt.
    static func loadSnapshot(
        _ path: String, embedder: any Embedder, configuration: CacheConfiguration, logger: Logger
    ) -> HNSWIndex? {
        do {
            let (index, metadata) = try HNSWIndex.loadWithMetadata(from: path)
            guard let info = try? JSONDecoder().decode(SnapshotInfo.self, from: Data(metadata)), info.format == 1 else {
                logger.warning("index snapshot \(path) has no cache metadata; rebuilding the index from the store")
                return nil
            }
            guard info.embedder == embedder.identity, index.dimension == embedder.dimension else {
                logger.warning("index snapshot \(path) was made with embedder \(info.embedder); rebuilding the index")
                return nil
            }
            guard index.configuration.m == configuration.hnsw.m,
                  index.configuration.efConstruction == configuration.hnsw.efConstruction,
                  index.configuration.vectors == configuration.hnsw.vectors
            else {
                logger.info("HNSW parameters changed since the snapshot \(path); rebuilding the index")
                return nil
            }
            return index
        } catch {
            logger.warning("index snapshot unusable, rebuilding the index from the store: \(error)")
            return nil
        }
    }

    /// Inserts the stored vectors of `keys` with the parallel bulk build, 20,000 at a time.
    static func bulkInsert(
        _ keys: [UInt64], tags: [UInt64: UInt32], into index: inout HNSWIndex, store: any CacheStore
    ) async throws {
        for start in stride(from: 0, to: keys.count, by: 20_000) {
            let chunk = Array(keys[start..<min(start + 20_000, keys.count)])
            let vectors = try await store.vectors(keys: chunk)
            var rows: [Float] = []
            var present: [UInt64] = []
            rows.reserveCapacity(chunk.count * index.dimension)
            for key in chunk {
                guard let v = vectors[key], v.count == index.dimension else { continue }
                rows += v
                present.append(key)
            }
            try index.insert(contentsOf: rows, keys: present, tags: present.map { tags[$0] ?? 0 })
        }
    }

    /// Embeds every stored prompt again with a new embedder.
    static func reembed(
        _ summaries: [EntrySummary], embedder: any Embedder, store: any CacheStore, logger: Logger
    ) async throws(CacheError) {
        let withVectors = summaries.filter(\.hasVector)
        logger.notice("the embedder changed: re-embedding \(withVectors.count) cached prompts")
        for start in stride(from: 0, to: withVectors.count, by: 256) {
            let batch = Array(withVectors[start..<min(start + 256, withVectors.count)])
            let vectors: [[Float]]
            do { vectors = try await embedder.embed(batch.map(\.prompt)) } catch { throw .embedding(error) }
            var replaced: [UInt64: [Float]] = [:]
            for (s, v) in zip(batch, vectors) { replaced[s.key] = v }
            try await store.replaceVectors(replaced)
        }
    }
}
