import Foundation
import SemanticCache
import Logging
import ServiceLifecycle

/// Writes the usage ledger every `usage.flush_interval` (and, with a shared store, then reads
/// what every instance spent, for the budgets), deletes rows older than
/// `usage.retention_days` hourly, reloads keys and tenants every `governance.reload_interval`
/// (changes made with `deja keys` on the file), and on graceful shutdown writes what is left.
struct UsageLedgerService: Service {
    let governance: Governance
    let metrics: GatewayMetrics
    let logger: Logger

    func run() async throws {
        await withTaskExecutorPreference(BlockingWorkExecutor.shared) { await loop() }
    }

    private func loop() async {
        let flushEvery = Duration.milliseconds(Int64(governance.usage.flushInterval * 1000))
        let reloadEvery = Duration.milliseconds(Int64(governance.configuration.reloadInterval * 1000))
        var lastReload = ContinuousClock.now
        var lastRetention = ContinuousClock.now - .seconds(3_600)
        var flushFailures = RepeatedFailureLog(what: "writing the usage ledger")
        var reloadFailures = RepeatedFailureLog(what: "reloading keys and tenants")
        var dropped = 0
        var lastFlush = ContinuousClock.now
        // Short naps, so that a graceful shutdown is noticed at once whatever the flush interval.
        let nap = min(flushEvery, .milliseconds(250))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: nap)
            if ContinuousClock.now - lastFlush >= flushEvery {
                lastFlush = .now
                dropped = await flush(&flushFailures, droppedBefore: dropped)
                // Shared store: what the other instances spent, for the budgets.
                do {
                    try await governance.refreshSpend()
                } catch {
                    flushFailures.failed(error, logger)
                }
            }
            if ContinuousClock.now - lastReload >= reloadEvery {
                lastReload = .now
                do {
                    try await governance.reload()
                    reloadFailures.succeeded(logger)
                } catch {
                    reloadFailures.failed(error, logger)
                }
            }
            if ContinuousClock.now - lastRetention >= .seconds(3_600) {
                lastRetention = .now
                let cutoff = governance.clock.now().addingTimeInterval(-Double(governance.usage.retentionDays) * 86_400)
                if let n = try? await governance.store.deleteUsage(before: cutoff), n > 0 {
                    logger.info("deleted \(n) usage rows older than \(governance.usage.retentionDays) days")
                }
            }
        }
        // After the server has stopped taking requests: the last rows.
        _ = await flush(&flushFailures, droppedBefore: dropped)
        let counts = governance.ledger.counts
        if counts.pending > 0 {
            logger.error("\(counts.pending) usage rows could not be written before shutdown")
        }
    }

    /// One flush, its metrics, and a failure logged once a minute while it lasts.
    private func flush(_ failures: inout RepeatedFailureLog, droppedBefore: Int) async -> Int {
        let outcome: Result<Int, any Error>
        do { outcome = .success(try await governance.ledger.flush()) } catch { outcome = .failure(error) }
        let dropped = governance.ledger.counts.dropped
        switch outcome {
        case .success(let written):
            metrics.ledgerRows(written: written, dropped: dropped - droppedBefore)
            failures.succeeded(logger)
        case .failure(let error):
            metrics.ledgerRows(written: 0, dropped: dropped - droppedBefore)
            failures.failed(error, logger)
        }
        return dropped
    }
}
