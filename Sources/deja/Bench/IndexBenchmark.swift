import Dispatch
import Foundation
import VectorIndex

/// Builds an HNSW index over a data set and measures it: build time and memory, then for each
/// `efSearch` the single-thread and all-thread throughput, latency and recall@k against exact search.
struct IndexBenchmark {
    var dataset: VectorDataset
    var configuration: HNSWConfiguration
    var buildThreads: Int
    var searchThreads: Int
    var k = 10
    var reps = 3
    var warmup = 100
    var showProgress = true

    struct Build: Codable {
        var seconds: Double
        var threads: Int
        var rssDeltaBytes: Int
        var stats: IndexStats
        /// `memoryBytes / (vectorBytes + linkBytes)`.
        var memoryRatio: Double
    }

    struct Point: Codable {
        var ef: Int
        var qps: Double
        var qpsAllThreads: Double
        var latencyP50Microseconds: Double
        var latencyP99Microseconds: Double
        var recall: Double
        /// The keys returned by the median pass, per query (not encoded).
        var ids: [[UInt64]] = []

        enum CodingKeys: String, CodingKey {
            case ef, qps, qpsAllThreads, latencyP50Microseconds, latencyP99Microseconds, recall
        }
    }

    struct Exact: Codable {
        var batchedQPS: Double
        var perQueryQPS: Double
        var seconds: Double
    }

    /// Builds the index, one insert at a time on one thread or in parallel batches.
    func build() throws -> (HNSWIndex, Build) {
        let n = dataset.baseCount
        let rssBefore = ProcessStats.residentBytes
        var index = try HNSWIndex(dimension: dataset.dimension, configuration: configuration, capacity: n)
        let start = nowNanoseconds()
        var lastReport = start
        let interactive = isatty(2) != 0
        let progress: (Int) -> Void = { done in
            guard showProgress else { return }
            let now = nowNanoseconds()
            // A redrawn line on a terminal; a new line every 10 s in a log.
            let every: UInt64 = interactive ? 1_000_000_000 : 10_000_000_000
            if now - lastReport > every || done == n {
                lastReport = now
                let seconds = String(format: "%.1f", Double(now - start) / 1e9)
                let line = "building: \(done)/\(n) (\(done * 100 / max(n, 1))%) \(seconds)s"
                FileHandle.standardError.write(Data((interactive ? "\r\(line)   " : "\(line)\n").utf8))
                if done == n && interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            }
        }
        if buildThreads <= 1 {
            for i in 0..<n {
                try index.insert(key: UInt64(i), vector: dataset.baseRow(i))
                if i % 1000 == 999 || i == n - 1 { progress(i + 1) }
            }
        } else {
            try index.insert(
                contentsOf: dataset.base, keys: (0..<n).map { UInt64($0) }, threads: buildThreads,
                progress: progress)
        }
        let seconds = Double(nowNanoseconds() - start) / 1e9
        let stats = index.stats
        let build = Build(
            seconds: seconds, threads: max(buildThreads, 1),
            rssDeltaBytes: ProcessStats.residentBytes - rssBefore, stats: stats,
            memoryRatio: Double(stats.memoryBytes) / Double(stats.vectorBytes + stats.linkBytes))
        return (index, build)
    }

    /// ``build()``, or a load of `indexFile` when that file exists (its build numbers are then
    /// those of the load, marked by `threads: 0`); a fresh build is saved to `indexFile`.
    func buildOrLoad(indexFile: String?) throws -> (HNSWIndex, Build) {
        guard let indexFile else { return try build() }
        if FileManager.default.fileExists(atPath: indexFile) {
            let rssBefore = ProcessStats.residentBytes
            let start = nowNanoseconds()
            let index = try HNSWIndex.load(from: indexFile)
            let saved = index.configuration
            guard saved.m == configuration.m, saved.efConstruction == configuration.efConstruction,
                  saved.vectors == configuration.vectors, index.dimension == dataset.dimension
            else {
                throw BenchError(
                    "\(indexFile) holds an index of M=\(saved.m), efConstruction=\(saved.efConstruction), "
                        + "\(saved.vectors.rawValue) vectors of dimension \(index.dimension), not the one asked for; "
                        + "remove it or name another --index-file")
            }
            let stats = index.stats
            return (index, Build(
                seconds: Double(nowNanoseconds() - start) / 1e9, threads: 0,
                rssDeltaBytes: ProcessStats.residentBytes - rssBefore, stats: stats,
                memoryRatio: Double(stats.memoryBytes) / Double(stats.vectorBytes + stats.linkBytes)))
        }
        let (index, build) = try build()
        try index.save(to: indexFile)
        return (index, build)
    }

    /// Exact top-k for every query: from the data files when they carry it, else from FlatIndex
    /// with one batched sgemm; also times exact search batched (the median of `reps` passes) and one
    /// query at a time.
    func exact() throws -> ([[UInt64]], Exact) {
        var flat = try FlatIndex(dimension: dataset.dimension)
        flat.reserveCapacity(dataset.baseCount)
        for i in 0..<dataset.baseCount {
            try flat.insert(key: UInt64(i), vector: dataset.baseRow(i))
        }
        // The median of `reps` passes, as anchors.py times numpy's product: a single pass also
        // paid for first touching the score buffers and OpenBLAS's own start.
        var batched: [[Neighbor]] = []
        var times: [Double] = []
        for _ in 0..<max(reps, 1) {
            let start = nowNanoseconds()
            batched = try flat.search(batch: dataset.queries, k: k)
            times.append(Double(nowNanoseconds() - start) / 1e9)
        }
        let seconds = times.sorted()[times.count / 2]
        let sample = min(dataset.queryCount, 100)
        let singleStart = nowNanoseconds()
        for q in 0..<sample { _ = try flat.search(dataset.queryRow(q), k: k) }
        let singleSeconds = Double(nowNanoseconds() - singleStart) / 1e9
        let truth = dataset.truth.map { $0.map { Array($0.prefix(k)) } } ?? batched.map { $0.map(\.key) }
        return (truth, Exact(
            batchedQPS: Double(dataset.queryCount) / seconds,
            perQueryQPS: Double(sample) / singleSeconds,
            seconds: seconds))
    }

    /// Measures every `ef`: `warmup` queries, then `reps` timed passes over all queries one at a
    /// time on one thread (the median pass is kept), then one pass spread over `searchThreads`.
    func sweep(_ index: HNSWIndex, efs: [Int], truth: [[UInt64]]) throws -> [Point] {
        let nq = dataset.queryCount
        let dim = dataset.dimension
        var points: [Point] = []
        var keys = [UInt64](repeating: 0, count: k)
        var sims = [Float](repeating: 0, count: k)
        for ef in efs {
            func one(_ q: Int) throws -> Int {
                try dataset.queries.withUnsafeBufferPointer { (all) throws(IndexError) -> Int in
                    let query = UnsafeBufferPointer(rebasing: all[q * dim..<(q + 1) * dim])
                    return try index.search(query, k: k, ef: ef, keys: &keys, similarities: &sims)
                }
            }
            for q in 0..<min(warmup, nq) { _ = try one(q) }
            var passes: [(qps: Double, latencies: [Double], ids: [[UInt64]])] = []
            for _ in 0..<max(reps, 1) {
                var latencies = [Double](repeating: 0, count: nq)
                var ids = [[UInt64]](repeating: [], count: nq)
                let start = nowNanoseconds()
                for q in 0..<nq {
                    let t = nowNanoseconds()
                    let found = try one(q)
                    latencies[q] = Double(nowNanoseconds() - t) / 1e3
                    ids[q] = Array(keys[0..<found])
                }
                let seconds = Double(nowNanoseconds() - start) / 1e9
                passes.append((Double(nq) / seconds, latencies, ids))
            }
            passes.sort { $0.qps < $1.qps }
            let median = passes[passes.count / 2]
            let allThreads = try parallelQPS(index, ef: ef)
            points.append(Point(
                ef: ef, qps: median.qps, qpsAllThreads: allThreads,
                latencyP50Microseconds: median.latencies.percentile(50),
                latencyP99Microseconds: median.latencies.percentile(99),
                recall: recall(found: median.ids, truth: truth, k: k),
                ids: median.ids))
        }
        return points
    }

    /// Queries per second with all queries spread over `searchThreads` threads, each searching
    /// its share one at a time.
    func parallelQPS(_ index: HNSWIndex, ef: Int) throws -> Double {
        let threads = max(searchThreads, 1)
        let nq = dataset.queryCount
        let dim = dataset.dimension
        let k = self.k
        let failures = Failures()
        let start = nowNanoseconds()
        dataset.queries.withUnsafeBufferPointer { all in
            let shared = UnsafeSendable(all)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                var keys = [UInt64](repeating: 0, count: k)
                var sims = [Float](repeating: 0, count: k)
                var q = t
                while q < nq {
                    let query = UnsafeBufferPointer(rebasing: shared.value[q * dim..<(q + 1) * dim])
                    do {
                        _ = try index.search(query, k: k, ef: ef, keys: &keys, similarities: &sims)
                    } catch {
                        failures.record(error)
                    }
                    q += threads
                }
            }
        }
        let seconds = Double(nowNanoseconds() - start) / 1e9
        if let error = failures.first { throw error }
        return Double(nq) / seconds
    }
}
