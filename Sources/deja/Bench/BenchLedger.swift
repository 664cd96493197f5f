import ArgumentParser
import DejaSupport
import Foundation
import Gateway
import VectorIndex

extension Deja {
    /// `deja bench ledger`: how many usage rows a second the ledger writes.
    struct BenchLedger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger",
            abstract: "Measure the usage ledger: rows per second written, and what appending one costs a request.",
            discussion: """
                Appends --rows ledger rows from --producers tasks as fast as they go while a writer \
                flushes every --flush-interval seconds, as the gateway does, into a fresh store in a \
                temporary folder (or --store). Reports the rows per second that reached the file and \
                the time one append takes on the request path. The reference, in the same run: the \
                same rows written by the store in one transaction, with no queue in front.
                """)

        @Option(help: "Rows to write.") var rows = 200_000
        @Option(help: "Tasks appending at once.") var producers = 4
        @Option(help: "Seconds between flushes.") var flushInterval = 1.0
        @Option(help: "The store file (default: a fresh one in a temporary folder, removed after).") var store: String?
        @Flag(help: "Print JSON.") var json = false

        struct Report: Codable {
            var machine: MachineProfile
            var rows: Int
            var rowsPerSecond: Double
            var appendNanoseconds: Double
            var referenceRowsPerSecond: Double
            var dropped: Int
        }

        func validate() throws {
            guard rows >= 1, producers >= 1, flushInterval > 0 else {
                throw ValidationError("--rows, --producers and --flush-interval must be positive")
            }
        }

        static func row(_ i: Int) -> UsageRecord {
            var r = UsageRecord(
                at: Date().timeIntervalSince1970, requestID: "req_bench_\(i)", keyID: "key_\(i % 1_000)", tenant: "t\(i % 10)",
                route: "/v1/chat/completions", status: 200, latencyMs: 0.8)
            r.model = "gpt-4o-mini"
            r.cache = i % 10 == 0 ? "miss" : "hit"
            r.promptTokens = 20
            r.completionTokens = 40
            r.cost = 0.00003
            return r
        }

        func run() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deja-bench-ledger-\(getpid())").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = store ?? folder + "/ledger.sqlite"
            let target = try SQLiteGovernanceStore(path: path)
            let ledger = UsageLedger(store: target, maxPending: max(rows, 1_000))
            let total = rows
            let start = ContinuousClock.now
            let done = Mutex(false)
            let writer = Task {
                var written = 0
                while written < total {
                    try await Task.sleep(for: .milliseconds(Int64(flushInterval * 1000)))
                    written += try await ledger.flush()
                    if done.withLock({ $0 }) && ledger.counts.pending == 0 { break }
                }
                return written
            }
            let perProducer = (total + producers - 1) / producers
            let appendNanoseconds = await withTaskGroup(of: Double.self) { group in
                for p in 0..<producers {
                    group.addTask {
                        let range = (p * perProducer)..<min(total, (p + 1) * perProducer)
                        let rows = range.map(Self.row)
                        let t0 = ContinuousClock.now
                        for r in rows { ledger.append(r) }
                        return Double((ContinuousClock.now - t0).components.attoseconds) / 1e9
                            + Double((ContinuousClock.now - t0).components.seconds) * 1e9
                    }
                }
                var sum = 0.0
                for await t in group { sum += t }
                return sum / Double(total)
            }
            done.withLock { $0 = true }
            let written = try await writer.value
            let seconds = Self.seconds(ContinuousClock.now - start)
            // The reference: the same number of rows straight into a second store, one transaction.
            let reference = try SQLiteGovernanceStore(path: folder + "/reference.sqlite")
            let rowsAgain = (0..<total).map(Self.row)
            let r0 = ContinuousClock.now
            try await reference.append(rowsAgain, batch: UUID())
            let referenceSeconds = Self.seconds(ContinuousClock.now - r0)
            let report = Report(
                machine: .current, rows: written, rowsPerSecond: Double(written) / seconds, appendNanoseconds: appendNanoseconds,
                referenceRowsPerSecond: Double(total) / referenceSeconds, dropped: ledger.counts.dropped)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print(MachineProfile.current)
            print(String(format: "ledger: %d rows in %.2f s: %.0f rows/s written (flush every %.2f s), append %.0f ns/row, %d dropped",
                         written, seconds, report.rowsPerSecond, flushInterval, appendNanoseconds, report.dropped))
            print(String(format: "reference: one transaction of %d rows, no queue: %.0f rows/s (ledger at %.2f× of it)",
                         total, report.referenceRowsPerSecond, report.rowsPerSecond / report.referenceRowsPerSecond))
        }

        static func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }
}
