import Foundation
import VectorIndex

/// The external-library protocol of `../shared/bench/anchors.py` (documented in its header):
/// one JSON request on standard input, progress on standard error, and the JSON response as the
/// last line of standard output. It lets the script measure Deja beside hnswlib, FAISS and
/// USearch on the same files in one run.
enum AnchorsExternal {
    struct Request: Decodable {
        var meta: String
        var k: Int
        var M: Int
        var ef_construction: Int
        var ef_search: [Int]
        var reps: Int
        var warmup: Int
        var threads: Int
        var ids_dir: String
    }

    struct SweepEntry: Encodable {
        var ef: Int
        var qps: Double
        var lat_p50_us: Double
        var lat_p99_us: Double
        var ids_file: String
    }

    struct Response: Encodable {
        var library = "deja-hnsw"
        var version = "0.1.0"
        var build_s: Double
        var rss_delta_mb: Double
        var index_bytes: Int
        var memory_bytes: Int
        var sweep: [SweepEntry]
        var call_overhead_us: Double
        /// Exact search with FlatIndex, all queries in one batch, one BLAS thread: compare with
        /// anchors.py's "numpy batched" and "matmul alone" in the same run.
        var exact_batched_qps: Double
        var exact_per_query_qps: Double
    }

    static func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: input)
        } catch {
            throw BenchError("--anchors-request: standard input is not an anchors request: \(error)")
        }
        let dataset = try VectorDataset.anchors(metaPath: request.meta)
        let bench = IndexBenchmark(
            dataset: dataset,
            configuration: HNSWConfiguration(m: request.M, efConstruction: request.ef_construction),
            buildThreads: request.threads, searchThreads: 1, k: request.k, reps: request.reps,
            warmup: request.warmup, showProgress: true)
        let (_, exact) = try bench.exact()
        FileHandle.standardError.write(Data(
            "deja: exact batched \(Int(exact.batchedQPS)) QPS, per query \(Int(exact.perQueryQPS)) QPS\n".utf8))
        let (index, build) = try bench.build()
        let truth = dataset.truth ?? []
        var sweep: [SweepEntry] = []
        try FileManager.default.createDirectory(atPath: request.ids_dir, withIntermediateDirectories: true)
        for ef in request.ef_search {
            guard let point = try bench.sweep(index, efs: [ef], truth: truth.isEmpty ? [] : truth).first else { continue }
            var ids = [Int32](repeating: -1, count: dataset.queryCount * request.k)
            for (q, keys) in point.ids.enumerated() {
                for (i, key) in keys.prefix(request.k).enumerated() { ids[q * request.k + i] = Int32(key) }
            }
            let path = (request.ids_dir as NSString).appendingPathComponent("ef\(ef).i32")
            try ids.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
            sweep.append(SweepEntry(
                ef: ef, qps: point.qps, lat_p50_us: point.latencyP50Microseconds,
                lat_p99_us: point.latencyP99Microseconds, ids_file: path))
            FileHandle.standardError.write(Data(
                "deja: ef=\(ef) qps=\(Int(point.qps)) recall@\(request.k)=\(point.recall)\n".utf8))
        }
        let response = Response(
            build_s: build.seconds, rss_delta_mb: Double(build.rssDeltaBytes) / 1_048_576,
            index_bytes: build.stats.vectorBytes + build.stats.linkBytes,
            memory_bytes: build.stats.memoryBytes, sweep: sweep,
            call_overhead_us: try callOverhead(dimension: dataset.dimension),
            exact_batched_qps: exact.batchedQPS, exact_per_query_qps: exact.perQueryQPS)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        print(String(decoding: try encoder.encode(response), as: UTF8.self))
    }

    /// The median time of one search on a 64-vector index: the fixed cost of a call.
    static func callOverhead(dimension: Int) throws -> Double {
        let data = ClusteredDataset(count: 64, dimension: dimension, queries: 1, clusters: 4, seed: 7)
        var index = try HNSWIndex(dimension: dimension)
        for i in 0..<64 { try index.insert(key: UInt64(i), vector: data.base(i)) }
        let query = data.base(3)
        var samples: [Double] = []
        for _ in 0..<7 {
            let start = nowNanoseconds()
            for _ in 0..<300 { _ = try index.search(query, k: 10, ef: 16) }
            samples.append(Double(nowNanoseconds() - start) / 300 / 1e3)
        }
        return samples.median
    }
}
