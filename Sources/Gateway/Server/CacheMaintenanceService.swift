import Foundation
import Logging
import SemanticCache
import ServiceLifecycle

/// Runs the cache's upkeep every second (hit counters, expiry, eviction), saves the index
/// snapshot every `cache.snapshot_interval`, and on graceful shutdown waits for answers still
/// being stored, then flushes the counters and saves the snapshot. All of it runs on the
/// ``BlockingWorkExecutor``: a snapshot of a large index takes seconds of file writing.
struct CacheMaintenanceService: Service {
    let cache: SemanticCache
    let background: BackgroundWork
    let metrics: GatewayMetrics
    let logger: Logger
    /// Returns the memory of closed connections after a burst.
    var closedConnections: ClosedConnectionMemory?

    func run() async throws {
        await withTaskExecutorPreference(BlockingWorkExecutor.shared) { await upkeep() }
    }

    private func upkeep() async {
        var lastSnapshot = ContinuousClock.now
        let snapshotEvery = Duration.milliseconds(Int64(cache.configuration.snapshotInterval * 1000))
        var upkeepFailures = RepeatedFailureLog(what: "cache upkeep")
        var snapshotFailures = RepeatedFailureLog(what: "saving the index snapshot")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            do {
                try await cache.maintain()
                upkeepFailures.succeeded(logger)
            } catch {
                metrics.storeFailure(during: "upkeep")
                upkeepFailures.failed(error, logger)
            }
            let size = cache.size
            metrics.size(entries: size.entries, bytes: size.bytes)
            _ = closedConnections?.release()
            if ContinuousClock.now - lastSnapshot >= snapshotEvery {
                // Tried again at the next interval, not every second: a snapshot writes the whole index.
                lastSnapshot = .now
                do {
                    try await cache.saveIndex()
                    snapshotFailures.succeeded(logger)
                } catch {
                    metrics.storeFailure(during: "snapshot")
                    snapshotFailures.failed(error, logger)
                }
            }
        }
        await background.drain()
        do {
            try await cache.close()
            logger.info("cache flushed and index snapshot saved")
        } catch {
            logger.error("could not save the cache on shutdown", metadata: ["error": .string("\(error)")])
        }
    }
}
