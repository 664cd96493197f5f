import Benchmark
import CBLAS
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
    // One MiniLM feed-forward projection of one 16-token sentence ([CLS] and [SEP] make 18
    // rows): OpenBLAS, which packs the weights on every call, against the weights packed once.
    let (rows, inputs, outputs) = (18, 384, 1536)
    var generator = SystemRandomNumberGenerator()
    let x = (0..<(rows * inputs)).map { _ in Float.random(in: -1..<1, using: &generator) }
    let w = (0..<(inputs * outputs)).map { _ in Float.random(in: -0.5..<0.5, using: &generator) }
    var panels = [Float](repeating: 0, count: inputs * outputs)
    panels.withUnsafeMutableBufferPointer { deja_pack_panels(w, inputs, outputs, $0.baseAddress) }
    Benchmark("Projection 18 x 384 by 384 x 1536, cblas_sgemm, 1 thread") { benchmark in
        openblas_set_num_threads(1)
        var y = [Float](repeating: 0, count: rows * outputs)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(inputs),
                        1, x, Int32(inputs), w, Int32(outputs), 0, &y, Int32(outputs))
            blackHole(y[0])
        }
    }
    Benchmark("Projection 18 x 384 by 384 x 1536, packed panels") { benchmark in
        let avx2 = deja_has_avx2_fma()
        var y = [Float](repeating: 0, count: rows * outputs)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(deja_gemm_packed(avx2, x, rows, inputs, panels, outputs, &y))
        }
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
