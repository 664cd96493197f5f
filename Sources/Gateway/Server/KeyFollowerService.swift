import Logging
import ServiceLifecycle

/// Reloads the key table when another instance changes keys or tenants in a governance store
/// they share (PostgreSQL's notification), so that a key revoked on one instance is refused by
/// all at once; `governance.reload_interval` stays the fallback for a missed notification.
struct KeyFollowerService: Service {
    let governance: Governance
    let store: any SharedLimitStore
    let logger: Logger

    func run() async throws {
        var failures = RepeatedFailureLog(what: "reloading keys after a change on another instance")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await store.waitForKeyChanges(timeout: 1)
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            do {
                try await governance.reload()
                failures.succeeded(logger)
            } catch {
                failures.failed(error, logger)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
