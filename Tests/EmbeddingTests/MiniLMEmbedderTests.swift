import CBLAS
import Embedding
import Foundation
import Testing
import TestSupport
import VectorIndex

@Suite("MiniLMEmbedder")
struct MiniLMEmbedderTests {
    func model() throws -> MiniLMEmbedder {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)) }
        return try MiniLMModel.embedder()
    }

    /// Every reference sentence, embedded in one batch of mixed lengths (1 to 256 tokens), is
    /// within cosine 0.999 of the independent implementation's vector.
    @Test("vectors match the reference implementation (cosine ≥ 0.999)")
    func reference() async throws {
        let embedder = try model()
        let references = try MiniLMModel.references()
        let vectors = try await embedder.embed(references.map(\.text))
        var worst = 1.0
        for (r, v) in zip(references, vectors) {
            #expect(v.count == 384)
            let cosine = BruteForce.cosine(v, r.embedding)
            worst = min(worst, cosine)
            #expect(cosine >= 0.999, "\(r.text.prefix(60)): cosine \(cosine)")
        }
        #expect(worst >= 0.999)
        #expect(embedder.dimension == 384)
        #expect(embedder.identity.hasPrefix("minilm-v1(all-MiniLM-L6-v2,weights=53aa51172d142c89,vocab=07eced375cec144d,"))
    }

    @Test("a sentence gets the same vector alone, in a batch of other lengths, and under concurrency")
    func batchInvariance() async throws {
        let embedder = try model()
        let texts = ["hi", "How do I reset my password?", String(repeating: "long text ", count: 60),
                     "東京は日本の首都です。", "", "What is the capital of France?"]
        let batch = try await embedder.embed(texts)
        for (i, text) in texts.enumerated() {
            let alone = try await embedder.embed(text)
            let diff = zip(alone, batch[i]).map { abs($0 - $1) }.max() ?? 0
            #expect(diff < 1e-5, "\(text.prefix(30)): max difference \(diff)")
        }
        // 48 concurrent single-text calls are gathered into batches by the scheduler: by the
        // shared embedder's workers (the default: one per core, short products split over idle
        // cores), by two workers on one thread each taking batches of at most 4 at once, and by
        // one worker that splits every short product with a helper thread.
        let workers = try MiniLMEmbedder.load(MiniLMConfiguration(
            path: MiniLMModel.folder, maxBatch: 8, batchWaitMilliseconds: 1, threads: 1, workers: 2))
        let split = try MiniLMEmbedder.load(MiniLMConfiguration(
            path: MiniLMModel.folder, maxBatch: 8, batchWaitMilliseconds: 0, threads: 2, workers: 1))
        for (i, text) in texts.enumerated() {
            let diff = zip(try await split.embed(text), batch[i]).map { abs($0 - $1) }.max() ?? 1
            #expect(diff < 1e-5, "split by columns, \(text.prefix(30)): max difference \(diff)")
        }
        for model in [embedder, workers, split] {
            let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for i in 0..<48 { group.addTask { (i, try await model.embed(texts[i % texts.count])) } }
                var out = [[Float]](repeating: [], count: 48)
                for try await (i, v) in group { out[i] = v }
                return out
            }
            for (i, v) in concurrent.enumerated() {
                let diff = zip(v, batch[i % texts.count]).map { abs($0 - $1) }.max() ?? 1
                #expect(diff < 1e-5, "call \(i): max difference \(diff)")
            }
        }
    }

    @Test("more texts than max_batch are embedded in order")
    func largeCall() async throws {
        let embedder = try model()
        let texts = (0..<70).map { "question number \($0) about topic \($0 % 7)" }
        let all = try await embedder.embed(texts)
        #expect(all.count == 70)
        let last = try await embedder.embed(texts[69])
        #expect(zip(all[69], last).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// What the hashing embedder cannot see: paraphrases with few shared words score high, and
    /// unrelated questions low.
    @Test("paraphrases score higher than unrelated questions")
    func semantics() async throws {
        let embedder = try model()
        let v = try await embedder.embed([
            "How do I reset my password?", "I forgot my login, how can I change it?", "What is the capital of France?",
            "The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium.",
        ])
        let paraphrase = BruteForce.cosine(v[0], v[1])
        let unrelated = BruteForce.cosine(v[0], v[2])
        #expect(paraphrase > 0.5, "\(paraphrase)")
        #expect(unrelated < 0.2, "\(unrelated)")
        // The model card's published example.
        #expect(abs(BruteForce.cosine(v[3], v[4]) - 0.6660) < 0.002)
        #expect(abs(BruteForce.cosine(v[3], v[5]) - 0.1046) < 0.002)
        #expect(abs(BruteForce.cosine(v[4], v[5]) - 0.1411) < 0.002)
    }

    @Test("the GELU kernel's erf is within 5e-7 of the double-precision erf")
    func gelu() {
        let xs = stride(from: -8.0, through: 8.0, by: 0.001).map { Float($0) }
        var values = xs
        let zero = [Float](repeating: 0, count: xs.count)
        for avx2 in Int32(0)...deja_simd_level() {
            values = xs
            values.withUnsafeMutableBufferPointer { deja_bias_gelu(avx2, $0.baseAddress, 1, xs.count, zero) }
            var worst = 0.0
            for (x, g) in zip(xs, values) {
                let exact = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
                worst = max(worst, abs(Double(g) - exact) / max(1, abs(Double(x))))
            }
            #expect(worst < 1e-6, "avx2=\(avx2): worst relative error \(worst)")
        }
    }

    @Test("the AVX2 layer norm agrees with the portable one and with a double-precision norm")
    func layerNorm() {
        var generator = SplitMix64(seed: 7)
        let rows = 5, cols = 384
        let h0 = (0..<(rows * cols)).map { _ in Float.random(in: -2..<2, using: &generator) }
        let d = (0..<(rows * cols)).map { _ in Float.random(in: -0.5..<0.5, using: &generator) }
        let bias = (0..<cols).map { _ in Float.random(in: 0..<0.2, using: &generator) }
        let gamma = (0..<cols).map { _ in Float.random(in: 0.5..<1.5, using: &generator) }
        let beta = (0..<cols).map { _ in Float.random(in: -0.5..<0.5, using: &generator) }
        for avx2 in Int32(0)...deja_simd_level() {
            var h = h0
            h.withUnsafeMutableBufferPointer { deja_add_layer_norm(avx2, $0.baseAddress, d, bias, gamma, beta, rows, cols, 1e-12) }
            var worst = 0.0
            for r in 0..<rows {
                let v = (0..<cols).map { Double(h0[r * cols + $0]) + Double(d[r * cols + $0]) + Double(bias[$0]) }
                let mean = v.reduce(0, +) / Double(cols)
                let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)).squareRoot()
                for c in 0..<cols {
                    let exact = (v[c] - mean) / sd * Double(gamma[c]) + Double(beta[c])
                    worst = max(worst, abs(Double(h[r * cols + c]) - exact))
                }
            }
            #expect(worst < 1e-5, "avx2=\(avx2): worst error \(worst)")
        }
    }

    @Test("the packed matrix product of each kernel level agrees with a double-precision product for every row count and shape",
          arguments: SIMDLevel.runnable)
    func packedProduct(level: SIMDLevel) throws {
        let avx2 = level.rawValue
        var generator = SplitMix64(seed: 11)
        // Row counts around the 6-row (AVX2) and 8- and 12-row (AVX-512) tiles, with and without a last
        // overlapping tile; n = 48 has an odd panel.
        for (k, n) in [(384, 1152), (1536, 384), (7, 16), (384, 32), (33, 48)] {
            let w = (0..<(k * n)).map { _ in Float.random(in: -0.5..<0.5, using: &generator) }
            var panels = [Float](repeating: .nan, count: k * n)
            panels.withUnsafeMutableBufferPointer { deja_pack_panels(w, k, n, $0.baseAddress) }
            for rows in [1, 5, 6, 7, 8, 9, 12, 13, 15, 16, 18, 23, 24, 26, 34, 47] {
                let x = (0..<(rows * k)).map { _ in Float.random(in: -1..<1, using: &generator) }
                var y = [Float](repeating: .nan, count: rows * n)
                let done = y.withUnsafeMutableBufferPointer { deja_gemm_packed(avx2, x, rows, k, panels, n, $0.baseAddress) }
                guard avx2 != 0 else {
                    #expect(done == 0, "without AVX2 the caller must fall back to cblas_sgemm")
                    continue
                }
                #expect(done == 1)
                var worst = 0.0
                for r in 0..<rows {
                    for c in 0..<n {
                        var exact = 0.0
                        for i in 0..<k { exact += Double(x[r * k + i]) * Double(w[i * n + c]) }
                        worst = max(worst, abs(Double(y[r * n + c]) - exact))
                    }
                }
                #expect(worst < 1e-4, "\(level) k=\(k) n=\(n) rows=\(rows): worst error \(worst)")
            }
        }
        // Shapes it does not take are left to cblas_sgemm.
        var y = [Float](repeating: 0, count: 8)
        #expect(y.withUnsafeMutableBufferPointer { deja_gemm_packed(avx2, [1], 1, 1, [1, 2, 3, 4, 5, 6, 7, 8], 8, $0.baseAddress) } == 0)
    }
}

@Suite("MiniLM model files")
struct MiniLMModelFileTests {
    /// A copy of the model folder with `change` applied, loaded.
    func load(_ change: (TemporaryDirectory) throws -> Void) throws -> EmbeddingError? {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)); return nil }
        let dir = try TemporaryDirectory("deja-minilm")
        defer { dir.remove() }
        for file in ["vocab.txt", "config.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: "\(MiniLMModel.folder)/\(file)", toPath: dir.path(file))
        }
        let weights = URL(fileURLWithPath: "\(MiniLMModel.folder)/model.safetensors").standardizedFileURL.path
        try FileManager.default.createSymbolicLink(atPath: dir.path("model.safetensors"), withDestinationPath: weights)
        try change(dir)
        do {
            _ = try MiniLMEmbedder.load(MiniLMConfiguration(path: dir.url.path))
            return nil
        } catch {
            return error
        }
    }

    func reason(_ error: EmbeddingError?) -> String { error.map { "\($0)" } ?? "loaded" }

    @Test("a missing weights file names make model")
    func missing() throws {
        let error = try load { try FileManager.default.removeItem(atPath: $0.path("model.safetensors")) }
        #expect(reason(error).contains("make model"), "\(reason(error))")
    }

    @Test("a truncated weights file is refused when loaded, not when used")
    func truncated() throws {
        let error = try load { dir in
            try FileManager.default.removeItem(atPath: dir.path("model.safetensors"))
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(MiniLMModel.folder)/model.safetensors"))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dir.path("model.safetensors")))
        }
        #expect(reason(error).contains("truncated"), "\(reason(error))")
    }

    @Test("a file that is not safetensors is refused")
    func garbage() throws {
        let error = try load { dir in
            try FileManager.default.removeItem(atPath: dir.path("model.safetensors"))
            try Data("not a model at all, just some text".utf8).write(to: URL(fileURLWithPath: dir.path("model.safetensors")))
        }
        #expect(reason(error).contains("model.safetensors"), "\(reason(error))")
    }

    @Test("a config.json for another shape names the first tensor that does not fit")
    func wrongShape() throws {
        let error = try load { dir in
            let text = try String(contentsOfFile: dir.path("config.json"), encoding: .utf8)
                .replacingOccurrences(of: "\"intermediate_size\": 1536", with: "\"intermediate_size\": 1024")
            try text.write(toFile: dir.path("config.json"), atomically: true, encoding: .utf8)
        }
        #expect(reason(error).contains("encoder.layer.0.intermediate.dense.weight has shape [1536, 384], expected [1024, 384]"), "\(reason(error))")
    }

    @Test("a vocabulary of another size is refused")
    func wrongVocabulary() throws {
        let error = try load { dir in
            let lines = try String(contentsOfFile: dir.path("vocab.txt"), encoding: .utf8).split(separator: "\n")
            try lines.dropLast(10).joined(separator: "\n").write(toFile: dir.path("vocab.txt"), atomically: true, encoding: .utf8)
        }
        #expect(reason(error).contains("30512 entries"), "\(reason(error))")
    }
}
