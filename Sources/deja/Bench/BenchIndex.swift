import ArgumentParser
import Foundation
import VectorIndex

extension Deja {
    /// `deja bench index`: build an HNSW index, then sweep efSearch.
    struct BenchIndex: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "index",
            abstract: "Build an HNSW index and measure build time, memory, QPS and recall@k.",
            discussion: """
                Uses a seeded clustered data set (--n, --dim, --queries, --clusters, --seed) or the \
                anchors-v1 files named by --meta. Ground truth is exact search with FlatIndex. \
                With --anchors-request it reads one request of ../shared/bench/anchors.py's external \
                protocol from standard input and prints its response.
                """)

        @Option(help: "Base vectors to generate.") var n = 20_000
        @Option(help: "Dimension of generated vectors.") var dim = 128
        @Option(help: "Queries to generate.") var queries = 1_000
        @Option(help: "Clusters of generated vectors.") var clusters = 100
        @Option(help: "Seed of generated vectors.") var seed: UInt64 = 1
        @Option(help: "Read base, query and ground-truth files from this anchors-v1 meta.json.") var meta: String?
        @Option(name: .customLong("m"), help: "HNSW M: links per node (2M on level 0).") var m = 16
        @Option(help: "HNSW efConstruction.") var efConstruction = 200
        @Option(help: "Comma-separated efSearch values to sweep.") var ef = "16,32,64,128,256"
        @Option(help: "Results per query (recall@k).") var k = 10
        @Option(help: "Timed passes per ef and of exact batched search; the median is reported.") var reps = 3
        @Option(help: "Warm-up queries per ef.") var warmup = 100
        @Option(help: "Comma-separated vector encodings to build and compare: float32, int8.") var vectors = "float32"
        @Option(help: "Threads for the build (1: one insert at a time).") var buildThreads = 1
        @Option(help: "Threads for the all-threads QPS column (default: all cores).") var searchThreads: Int?
        @Option(help: "OpenBLAS threads for exact search.") var blasThreads = 1
        @Option(help: "Load the index from this file if it exists, else build it and save it there.")
        var indexFile: String?
        @Flag(help: "Print JSON instead of a table.") var json = false
        @Flag(help: "Speak anchors.py's external-library protocol on stdin/stdout.") var anchorsRequest = false

        func validate() throws {
            guard n >= 1, dim >= 1, queries >= 1, clusters >= 1 else {
                throw ValidationError("--n, --dim, --queries and --clusters must be at least 1")
            }
            guard k >= 1, reps >= 1, warmup >= 0, buildThreads >= 1, blasThreads >= 1 else {
                throw ValidationError("--k, --reps, --build-threads and --blas-threads must be at least 1")
            }
            guard !efValues.isEmpty, efValues.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("--ef must be a comma-separated list of positive integers, got '\(ef)'")
            }
            let problems = HNSWConfiguration(m: m, efConstruction: efConstruction).problems
            if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
            let encodings = vectors.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !encodings.isEmpty, encodings.allSatisfy({ VectorEncoding(rawValue: $0) != nil }) else {
                throw ValidationError("--vectors must list float32 and/or int8, got '\(vectors)'")
            }
            if indexFile != nil && encodings.count > 1 {
                throw ValidationError("--index-file takes one encoding; got --vectors \(vectors)")
            }
        }

        var encodings: [VectorEncoding] {
            vectors.split(separator: ",").compactMap { VectorEncoding(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        }

        var efValues: [Int] { ef.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func run() throws {
            VectorMath.setBLASThreads(blasThreads)
            if anchorsRequest {
                try AnchorsExternal.run()
                return
            }
            let dataset: VectorDataset
            if let meta {
                dataset = try VectorDataset.anchors(metaPath: meta)
            } else {
                dataset = .generated(count: n, dimension: dim, queries: queries, clusters: clusters, seed: seed)
            }
            var bench = IndexBenchmark(
                dataset: dataset, configuration: HNSWConfiguration(m: m, efConstruction: efConstruction),
                buildThreads: buildThreads, searchThreads: searchThreads ?? ProcessStats.cpuCount,
                k: k, reps: reps, warmup: warmup, showProgress: !json)
            let (truth, exact) = try bench.exact()
            var reports: [IndexReport] = []
            for encoding in encodings {
                bench.configuration.vectors = encoding
                // One encoding's index at a time: it is freed before the next is built.
                do {
                    let (index, build) = try bench.buildOrLoad(indexFile: indexFile)
                    let points = try bench.sweep(index, efs: efValues, truth: truth)
                    reports.append(IndexReport(
                        dataset: dataset.name, count: dataset.baseCount, dimension: dataset.dimension,
                        queries: dataset.queryCount, k: k, m: m, efConstruction: efConstruction, vectors: encoding,
                        machine: .current, build: build, exact: exact, sweep: points))
                }
            }
            if json {
                print(reports.count == 1 ? reports[0].json : IndexReport.json(reports))
            } else {
                print(reports.map(\.table).joined(separator: "\n"))
            }
        }
    }
}

/// The result of `deja bench index`, as a table or as JSON.
struct IndexReport: Codable {
    var dataset: String
    var count: Int
    var dimension: Int
    var queries: Int
    var k: Int
    var m: Int
    var efConstruction: Int
    var vectors: VectorEncoding
    var machine: MachineProfile
    var build: IndexBenchmark.Build
    var exact: IndexBenchmark.Exact
    var sweep: [IndexBenchmark.Point]

    var json: String { Self.json(self) }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    var table: String {
        let mb = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1_048_576) }
        var out = """
            \(machine)
            data: \(dataset): \(count) × \(dimension), \(queries) queries, k=\(k); M=\(m), efConstruction=\(efConstruction), \
            vectors \(vectors.rawValue)
            build: \(String(format: "%.2f", build.seconds)) s on \(build.threads) thread(s); \
            index memory \(mb(build.stats.memoryBytes)) = \(String(format: "%.3f", build.memoryRatio)) × (vectors \
            \(mb(build.stats.vectorBytes)) + links \(mb(build.stats.linkBytes))); RSS +\(mb(build.rssDeltaBytes)); \
            levels \(build.stats.levels); mean degree \(String(format: "%.1f", build.stats.meanDegree))
            exact (FlatIndex): batched \(String(format: "%.0f", exact.batchedQPS)) QPS, \
            one query at a time \(String(format: "%.0f", exact.perQueryQPS)) QPS

            """
        out += "    ef   QPS 1 thread   QPS all threads   p50 µs   p99 µs   recall@\(k)\n"
        for p in sweep {
            out += String(
                format: "%6d %14.0f %17.0f %8.1f %8.1f %10.4f\n", p.ef, p.qps, p.qpsAllThreads,
                p.latencyP50Microseconds, p.latencyP99Microseconds, p.recall)
        }
        return out
    }
}
