import Logging
import SemanticCache
import ServiceLifecycle

/// Keeps this instance's index and catalog in step with a store other instances share
/// (PostgreSQL): wakes on the store's notification of a change, or every second in case one was
/// missed (a dropped connection, a restart), and applies every change after the last it applied.
/// While the store is unreachable it keeps trying; the instance goes on answering from what it has.
struct ChangeFollowerService: Service {
    let cache: SemanticCache
    let feed: any ChangeFeed
    let metrics: GatewayMetrics
    let logger: Logger

    func run() async throws {
        var failures = RepeatedFailureLog(what: "following the shared cache store")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await feed.waitForChanges(timeout: 1)
            do {
                try await cache.followChanges()
                failures.succeeded(logger)
            } catch {
                metrics.storeFailure(during: "follow")
                failures.failed(error, logger)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
