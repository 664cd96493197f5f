public import AsyncHTTPClient
public import Logging
public import SemanticCache

/// Opens the cache a configuration describes: its embedder, its SQLite store and its index
/// snapshot.
public enum CacheRuntime {
    public static func open(
        _ configuration: DejaConfiguration, client: HTTPClient, logger: Logger, clock: any CacheClock = SystemClock()
    ) async throws -> SemanticCache {
        let embedder = try await configuration.embedder.makeEmbedder(client: client)
        let store = try SQLiteCacheStore(path: configuration.cache.store)
        let indexPath = configuration.cache.indexFile.isEmpty ? nil : configuration.cache.indexFile
        return try await SemanticCache.open(
            configuration: configuration.effectiveCache, embedder: embedder, store: store, indexPath: indexPath, clock: clock,
            logger: logger)
    }
}
