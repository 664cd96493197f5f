import Logging
import ServiceLifecycle

/// Exchanges this instance's leases on the shared per-minute buckets every 250 ms
/// (``QuotaLeases``), when keys, limits and budgets live in a store several instances share.
struct SharedLimitsService: Service {
    let leases: QuotaLeases
    let metrics: GatewayMetrics
    let logger: Logger

    func run() async throws {
        var failures = RepeatedFailureLog(what: "exchanging rate-limit leases with the shared store")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            do {
                try await leases.exchange()
                failures.succeeded(logger)
            } catch {
                metrics.storeFailure(during: "limits")
                failures.failed(error, logger)
            }
        }
    }
}
