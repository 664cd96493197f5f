import DejaSupport
import ArgumentParser
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import VectorIndex

extension Deja {
    /// `deja bench embed`: prompts per second of an embedder.
    struct BenchEmbed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embed",
            abstract: "Measure an embedder's throughput on a prompt file.",
            discussion: """
                Embeds the prompts of --prompts (one per line) for about --seconds per measurement, in \
                batches of each --batch size, on one thread and on all threads, and prints prompts per \
                second and the median latency of one call. For minilm the threads are the model's \
                (OpenBLAS) threads with one caller, plus rows of 32 concurrent one-prompt callers \
                that the embedder gathers into batches: one worker on all threads, then one worker \
                per thread on one thread each; the last rows are the default configuration (a worker \
                per core, threads automatic, shown as 0) with one caller and with 32 (no batch wait). \
                For the other embedders the threads are callers.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: "Embedder to measure instead of the configuration's (hashing, remote, minilm).")
        var embedder: String?
        @Option(help: "Prompt file, one prompt per line.") var prompts = "fixtures/prompts.txt"
        @Option(help: "Seconds per measurement.") var seconds = 3.0
        @Option(help: "Comma-separated batch sizes.") var batch = "1,8,32"
        @Option(help: "Threads for the all-threads rows (default: all cores).") var threads: Int?
        @Flag(help: "Print JSON.") var json = false

        var batchSizes: [Int] { batch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

        func validate() throws {
            guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be between 0 and 600") }
            guard !batchSizes.isEmpty else { throw ValidationError("--batch must list positive batch sizes, got '\(batch)'") }
        }

        struct Row: Codable {
            /// Compute threads (MiniLM: OpenBLAS threads per worker; others: the callers' threads).
            var threads: Int
            /// MiniLM's workers (forward passes at once); 1 for the other embedders.
            var workers = 1
            /// Tasks calling `embed` at the same time.
            var callers: Int
            var batch: Int
            var promptsPerSecond: Double
            var medianLatencyMilliseconds: Double
        }

        struct Report: Codable {
            var machine: MachineProfile
            var embedder: String
            var prompts: Int
            var meanWords: Double
            var meanTokens: Double?
            var rows: [Row]
        }

        func run() async throws {
            var configuration = try options.load()
            if let embedder { configuration.embedder.kind = try EmbedderKindOption.parse(embedder) }
            let text = try TextFile.read(prompts)
            let lines = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw CommandFailure("\(prompts) holds no prompts") }
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                try await measureAll(configuration, lines: lines, client: client)
            }
        }

        func measureAll(_ configuration: DejaConfiguration, lines: [String], client: HTTPClient) async throws {
            let all = threads ?? ProcessInfo.processInfo.activeProcessorCount
            let threadCounts = Array(Set([1, all])).sorted()
            var rows: [Row] = []
            var identity = ""
            var meanTokens: Double?
            if configuration.embedder.kind == .minilm {
                // The model's own threads: one embedder per thread count (OpenBLAS's setting is
                // per process, so each is loaded right before it is measured), one caller.
                for t in threadCounts {
                    var minilm = configuration.embedder.minilm
                    minilm.threads = t
                    minilm.workers = 1
                    minilm.batchWaitMilliseconds = 0
                    let model = try MiniLMEmbedder.load(minilm)
                    identity = model.identity
                    meanTokens = Double(lines.map { model.tokenizer.encode($0).count }.reduce(0, +)) / Double(lines.count)
                    for batch in batchSizes {
                        rows.append(try await measure(model, lines, callers: 1, batch: batch, threads: t))
                    }
                }
                // Concurrent single-prompt callers, as a busy gateway makes them: the scheduler
                // gathers them into batches (batch_wait_ms as configured).
                var minilm = configuration.embedder.minilm
                minilm.threads = all
                minilm.workers = 1
                rows.append(try await measure(try MiniLMEmbedder.load(minilm), lines, callers: 32, batch: 1, threads: all))
                if all > 1 {
                    minilm.threads = 1
                    minilm.workers = all
                    var row = try await measure(try MiniLMEmbedder.load(minilm), lines, callers: 32, batch: 1, threads: 1)
                    row.workers = all
                    rows.append(row)
                }
                // The default: a worker per core, threads automatic (shown as 0): one caller, whose
                // pass has the machine to itself, then 32.
                minilm.threads = 0
                minilm.workers = 0
                minilm.batchWaitMilliseconds = 0
                let automatic = try MiniLMEmbedder.load(minilm)
                for callers in [1, 32] {
                    var row = try await measure(automatic, lines, callers: callers, batch: 1, threads: 0)
                    row.workers = minilm.resolvedWorkers
                    rows.append(row)
                }
            } else {
                let model = try await configuration.embedder.makeEmbedder(client: client)
                identity = model.identity
                for batch in batchSizes {
                    for t in threadCounts {
                        rows.append(try await measure(model, lines, callers: t, batch: batch, threads: t))
                    }
                }
            }
            let words = Double(lines.map { $0.split(separator: " ").count }.reduce(0, +)) / Double(lines.count)
            let report = Report(machine: .current, embedder: identity, prompts: lines.count, meanWords: words, meanTokens: meanTokens, rows: rows)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print(report.machine)
            print("embedder: \(report.embedder)")
            var summary = String(format: "prompts: %d from %@, %.1f words", lines.count, prompts, words)
            if let meanTokens { summary += String(format: " and %.1f tokens", meanTokens) }
            print(summary + " on average")
            print("workers  threads  callers  batch  prompts/s  median ms per call")
            for r in rows {
                print(String(format: "%7d  %7d  %7d  %5d  %9.0f  %8.3f", r.workers, r.threads, r.callers, r.batch,
                             r.promptsPerSecond, r.medianLatencyMilliseconds))
            }
        }

        /// Embeds batches of `batch` prompts from `callers` tasks for `seconds`, after a warm-up.
        func measure(_ model: any Embedder, _ lines: [String], callers: Int, batch: Int, threads: Int) async throws -> Row {
            _ = try await model.embed(Array(lines.prefix(batch)))
            let deadline = Date().addingTimeInterval(seconds)
            let start = Date()
            let results = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
                for t in 0..<callers {
                    group.addTask {
                        var done = 0
                        var latencies: [Double] = []
                        var i = t * 97
                        while Date() < deadline {
                            let chunk = (0..<batch).map { lines[(i + $0) % lines.count] }
                            let callStart = Date()
                            _ = try await model.embed(chunk)
                            latencies.append(Date().timeIntervalSince(callStart) * 1000)
                            done += batch
                            i += batch
                        }
                        return (done, latencies)
                    }
                }
                var all: [(Int, [Double])] = []
                for try await r in group { all.append(r) }
                return all
            }
            let elapsed = Date().timeIntervalSince(start)
            let total = results.map(\.0).reduce(0, +)
            let latencies = results.flatMap(\.1)
            return Row(
                threads: threads, callers: callers, batch: batch, promptsPerSecond: Double(total) / elapsed,
                medianLatencyMilliseconds: latencies.median)
        }
    }
}
