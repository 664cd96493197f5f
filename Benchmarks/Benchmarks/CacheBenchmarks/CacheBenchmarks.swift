import Benchmark
import Embedding
import Foundation
import SemanticCache

/// The cache engine's hot paths on a cache of 20,000 entries in one namespace (a SQLite file in
/// the temporary folder): a lookup that misses, an exact hit, a semantic hit.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 20, maxDuration: .seconds(3))
    let prompts = (try? String(contentsOfFile: "../fixtures/prompts.txt", encoding: .utf8))?
        .split(separator: "\n").map(String.init) ?? ["no prompts"]

    Benchmark("lookup miss, 20k entries", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let cache = try await SharedCache.get(prompts)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try await cache.lookup(SharedCache.request("Something nobody asked before, number \(i)"), options: .init(record: false)))
        }
    }
    // What a proxied miss costs the cache: the lookup, then storing the answer it did not find.
    Benchmark("miss path: lookup then insert, 20k entries", configuration: .init(scalingFactor: .one)) { benchmark in
        let cache = try await SharedCache.get(prompts)
        let answer = Data(#"{"object":"chat.completion","choices":[]}"#.utf8)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            // The closure runs many times: a random number keeps every prompt new.
            let request = SharedCache.request("A question nobody asked before, number \(UInt64.random(in: 0...UInt64.max))")
            guard let miss = try await cache.lookup(request, options: .init(record: false)).miss else { continue }
            blackHole(try await cache.insert(miss.request, response: answer, model: "gpt-test"))
        }
    }
    Benchmark("lookup exact hit, 20k entries", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let cache = try await SharedCache.get(prompts)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try await cache.lookup(SharedCache.request(prompts[i % prompts.count] + " #\(i % 20_000)"), options: .init(record: false)))
        }
    }
    Benchmark("lookup semantic hit, 20k entries", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let cache = try await SharedCache.get(prompts)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try await cache.lookup(SharedCache.request(prompts[i % prompts.count] + " #\(i % 20_000) please"), options: .init(record: false)))
        }
    }
    // The upkeep runs every second under the write lock, and its expiry sweep under the lock
    // every lookup takes: it must cost what is due, not what is stored.
    Benchmark("upkeep with nothing due, 20k entries") { benchmark in
        let cache = try await SharedCache.get(prompts)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await cache.maintain())
        }
    }
}

/// One cache for all the benchmarks, filled on first use.
actor SharedCache {
    static let shared = SharedCache()
    private var cache: SemanticCache?

    static func request(_ prompt: String) -> CacheRequest {
        CacheRequest(model: "gpt-test", context: ["system": "You are helpful."], prompt: prompt)
    }

    static func get(_ prompts: [String]) async throws -> SemanticCache {
        try await shared.open(prompts)
    }

    private func open(_ prompts: [String]) async throws -> SemanticCache {
        if let cache { return cache }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deja-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let opened = try await SemanticCache.open(
            configuration: CacheConfiguration(), embedder: try HashingEmbedder(),
            store: try SQLiteCacheStore(path: folder.appendingPathComponent("cache.sqlite").path))
        for i in 0..<20_000 {
            try await opened.insert(
                Self.request(prompts[i % prompts.count] + " #\(i)"), response: Data("{}".utf8), model: "gpt-test")
        }
        cache = opened
        return opened
    }
}
