import Foundation
import Benchmark
import VectorIndex

/// Micro-benchmarks of the vector index. The end-to-end numbers (build time, QPS against
/// recall, memory) come from `deja bench index`; these track the hot paths and their
/// allocations from commit to commit (`swift package benchmark baseline compare`).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        maxDuration: .seconds(3))

    let data = ClusteredDataset(count: 20_000, dimension: 128, queries: 256, clusters: 100, seed: 1)
    var built = try! HNSWIndex(dimension: 128, capacity: data.count)
    try! built.insert(contentsOf: data.baseVectors, keys: (0..<data.count).map { UInt64($0) }, threads: 2)
    let index = built
    var flatIndex = try! FlatIndex(dimension: 128)
    for i in 0..<data.count { try! flatIndex.insert(key: UInt64(i), vector: data.base(i)) }
    let flat = flatIndex

    // Output buffers allocated once, so that the malloc count is the search's own (zero).
    let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: 10)
    let sims = UnsafeMutablePointer<Float>.allocate(capacity: 10)
    nonisolated(unsafe) let queries = UnsafeMutableBufferPointer<Float>.allocate(capacity: data.queryVectors.count)
    _ = queries.initialize(from: data.queryVectors)

    Benchmark("HNSW search, 20k x 128, k=10, ef=32 (pointer API)") { benchmark in
        do {
            let all = UnsafeBufferPointer(queries)
            for i in benchmark.scaledIterations {
                let q = i % data.queryCount
                let query = UnsafeBufferPointer(rebasing: all[q * 128..<(q + 1) * 128])
                blackHole(try! index.search(query, k: 10, ef: 32, keys: keys, similarities: sims))
            }
        }
    }

    Benchmark("HNSW insert into 20k x 128") { benchmark in
        var copy = index
        copy.reserveCapacity(data.count + 10_000)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            try! copy.insert(key: UInt64(1_000_000 + i), vector: data.query(i % data.queryCount))
        }
    }

    Benchmark("FlatIndex batched search, 256 queries x 20k x 128", configuration: .init(maxDuration: .seconds(5))) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! flat.search(batch: data.queryVectors, k: 10))
        }
    }

    Benchmark("dot product, 384 floats", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let a = [Float](repeating: 0.5, count: 384)
        let b = [Float](repeating: 0.25, count: 384)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for _ in benchmark.scaledIterations {
                    blackHole(VectorMath.dot(pa.baseAddress!, pb.baseAddress!, count: 384))
                }
            }
        }
    }

    // A namespace's lookup: the graph search restricted to its tag against exact scoring of its
    // keys, for namespaces of 1%, 4% and 16% of a 100k index (where SemanticCache switches from one
    // to the other, `CacheConfiguration.scoresExactly`). Building the index takes a while, so these
    // run only when asked: DEJA_BENCH_TAGS=1 swift package benchmark --target IndexBenchmarks --filter 'namespace.*'
    if ProcessInfo.processInfo.environment["DEJA_BENCH_TAGS"] != nil {
        let n = 100_000
        let tagged = ClusteredDataset(count: n, dimension: 128, queries: 256, clusters: 97, seed: 2)
        func tag(_ i: Int) -> UInt32 { let r = i % 100; return r < 1 ? 1 : r < 5 ? 2 : r < 21 ? 3 : 0 }
        var withTags = try! HNSWIndex(dimension: 128, capacity: n)
        try! withTags.insert(contentsOf: tagged.baseVectors, keys: (0..<n).map { UInt64($0) },
                             tags: (0..<n).map(tag), threads: 2)
        let tagIndex = withTags
        for t: UInt32 in [1, 2, 3] {
            let keys = (0..<n).filter { tag($0) == t }.map { UInt64($0) }
            Benchmark("namespace of \(keys.count) in 100k x 128: graph search restricted to its tag, k=5, ef=64") { benchmark in
                for i in benchmark.scaledIterations {
                    blackHole(try! tagIndex.search(tagged.query(i % tagged.queryCount), k: 5, ef: 64, tag: t))
                }
            }
            Benchmark("namespace of \(keys.count) in 100k x 128: exact scoring of its keys, k=5") { benchmark in
                for i in benchmark.scaledIterations {
                    blackHole(try! tagIndex.score(tagged.query(i % tagged.queryCount), keys: keys, k: 5))
                }
            }
        }
    }
}
