import MockProvider
import DejaSupport
import Embedding
import Foundation
import Gateway
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport
import VectorIndex

/// The gateway with `embedder: minilm`: paraphrases that share few words hit, while the hashing
/// embedder misses them. Needs the model files (`make model`; `make test` fetches them).
@Suite("Gateway with the MiniLM embedder")
struct MiniLMGatewayTests {
    typealias H = GatewayHarness

    static func minilm(_ c: inout DejaConfiguration) {
        c.embedder = EmbedderConfiguration(kind: .minilm, minilm: MiniLMConfiguration(path: MiniLMModel.folder))
    }

    @Test("a paraphrase with few shared words is a semantic hit with MiniLM and a miss with hashing")
    func paraphraseHits() async throws {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)); return }
        let cached = "What is the difference between TCP and UDP?"
        let paraphrase = "How does TCP differ from UDP?"
        try await H.run(inProcess: true, configure: Self.minilm) { h in
            let first = try await h.chat(cached)
            #expect(first.cache == "miss")
            await h.settle()
            let hit = try await h.chat(paraphrase)
            #expect(hit.cache == "semantic-hit")
            #expect(Double(hit.headers.first(name: "x-deja-similarity") ?? "") ?? 0 >= 0.87)
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)

            // Close in meaning is not the same question: the guard still refuses opposites.
            let end = try await h.chat("When did World War II end?")
            #expect(end.cache == "miss")
            await h.settle()
            let start = try await h.chat("When did World War II start?")
            #expect(start.cache == "miss")
            let other = try await h.chat("What is the capital of France?")
            #expect(other.cache == "miss")
        }
        try await H.run(inProcess: true) { h in
            let first = try await h.chat(cached)
            #expect(first.cache == "miss")
            await h.settle()
            let paraphrased = try await h.chat(paraphrase)
            #expect(paraphrased.cache == "miss", "the hashing embedder sees too few shared words")
        }
    }

    @Test("/v1/embeddings serves MiniLM vectors that match the reference implementation")
    func embeddingsRoute() async throws {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)); return }
        let reference = try #require(try MiniLMModel.references().first)
        try await H.run(inProcess: true, configure: Self.minilm) { h in
            let reply = try await h.post("/v1/embeddings", ["model": "deja-embed", "input": .string(reference.text)])
            #expect(reply.status == 200)
            let vector = (reply.json["data"]?.arrayValue?.first?["embedding"]?.arrayValue ?? []).compactMap { $0.doubleValue }.map { Float($0) }
            #expect(vector.count == 384)
            #expect(BruteForce.cosine(vector, reference.embedding) >= 0.999)
        }
    }
}
