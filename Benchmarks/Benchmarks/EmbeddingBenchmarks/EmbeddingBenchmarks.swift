import Benchmark
import Embedding
import Foundation

/// The MiniLM embedder's forward pass and tokenizer, and the hashing embedder beside them, on the
/// prompts of `deja bench embed`. Needs the model (`make model`, from the repository root).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, maxDuration: .seconds(3))
    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: "../fixtures/\(file)", encoding: .utf8)) ?? "no prompts")
            .split(separator: "\n").map(String.init)
    }
    let short = lines("prompts-16-tokens.txt")
    let long = lines("prompts.txt")
    let model = Result { try MiniLMEmbedder.load(MiniLMConfiguration(
        path: "../models/all-MiniLM-L6-v2", maxBatch: 32, batchWaitMilliseconds: 0, threads: 1, workers: 1)) }

    Benchmark("MiniLM, one 16-token prompt, 1 thread") { benchmark in
        let embedder = try model.get()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(try await embedder.embed(short[i % short.count])) }
    }
    Benchmark("MiniLM, batch of 32 16-token prompts, 1 thread") { benchmark in
        let embedder = try model.get()
        let batch = Array(short.prefix(32))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try await embedder.embed(batch)) }
    }
    Benchmark("WordPiece, one 34-token prompt", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let tokenizer = try model.get().tokenizer
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(tokenizer.encode(long[i % long.count])) }
    }
    Benchmark("Hashing embedder, one 30-word prompt", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let embedder = try HashingEmbedder()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(try await embedder.embed(long[i % long.count])) }
    }
}
