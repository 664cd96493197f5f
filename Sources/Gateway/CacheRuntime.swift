import DejaSupport
public import AsyncHTTPClient
import Embedding
import Foundation
public import Logging
public import SemanticCache
import VectorIndex

/// Opens the cache a configuration describes: its embedder, its store (an SQLite file, or a
/// PostgreSQL database shared with other instances) and its index snapshot.
public enum CacheRuntime {
    public static func open(
        _ configuration: DejaConfiguration, client: HTTPClient, logger: Logger, clock: any CacheClock = SystemClock()
    ) async throws -> SemanticCache {
        let indexPath = configuration.cache.indexFile.isEmpty ? nil : configuration.cache.indexFile
        // A data folder that does not exist yet is made, as a server does for its data.
        if let indexPath { try makeFolder(of: indexPath, for: "cache.index_file") }
        let store: any CacheStore
        if PostgresPool.isURL(configuration.cache.store) {
            store = try await PostgresCacheStore(
                url: configuration.cache.store, password: ProcessInfo.processInfo.environment["PGPASSWORD"], logger: logger)
        } else {
            try makeFolder(of: configuration.cache.store, for: "cache.store")
            store = try SQLiteCacheStore(path: configuration.cache.store, exclusive: true)
        }
        let made = try await configuration.embedder.makeEmbedder(client: client, storedIdentity: try await store.metadata("embedder"))
        if let remote = made as? RemoteEmbedder, let failure = remote.startFailure {
            logger.warning(
                "the embeddings endpoint did not answer at start (\(failure)); using the stored cache's dimension, \(remote.dimension): lookups answer from the providers until it is back")
        }
        let embedder = MemoizedEmbedder.wrap(made, entries: configuration.embedder.memoEntries)
        // Holding the store's lock, no other Deja process is saving this cache's snapshot.
        if let indexPath {
            let (files, bytes) = HNSWIndex.removeUnfinishedSaves(of: indexPath)
            if files > 0 {
                logger.notice("removed \(files) unfinished index snapshot file(s), \(bytes) bytes, left by a process stopped while saving")
            }
        }
        return try await SemanticCache.open(
            configuration: configuration.effectiveCache, embedder: embedder, store: store, indexPath: indexPath, clock: clock,
            logger: logger)
    }

    static func makeFolder(of path: String, for field: String) throws(CacheError) {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .store("\(field): cannot create the folder \(folder): \(FileAccessError.reason(error))")
        }
    }
}
