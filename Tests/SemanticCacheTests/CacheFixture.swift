import DejaSupport
import Embedding
import Foundation
import SemanticCache
import TestSupport

/// A cache on a real SQLite file in a temporary folder, with the hashing embedder and a manual clock.
/// It decides hits by the cosine threshold (0.80) and the guard, which the tests of this target pin
/// down prompt by prompt; `VerifierTests` test the verifier's decision.
struct CacheFixture {
    let directory: TemporaryDirectory
    let clock = ManualClock()
    var configuration = CacheConfiguration(verifier: VerifierSettings(enabled: false))

    init() throws {
        directory = try TemporaryDirectory("deja-cache")
    }

    var storePath: String { directory.path("cache.sqlite") }
    var indexPath: String { directory.path("cache.hnsw") }

    func open(
        embedder: (any Embedder)? = nil, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) async throws -> SemanticCache {
        try await SemanticCache.open(
            configuration: configuration, embedder: embedder ?? (try HashingEmbedder()),
            store: try SQLiteCacheStore(path: storePath), indexPath: indexPath, clock: clock, random: random)
    }

    static func request(
        _ prompt: String?, model: String = "gpt-test", tenant: String = "acme", system: String = "You are helpful.",
        temperature: Double = 0
    ) -> CacheRequest {
        CacheRequest(
            tenant: tenant, model: model,
            context: ["messages": [["role": "system", "content": .string(system)]], "temperature": .double(temperature)],
            prompt: prompt)
    }

    static func answer(_ text: String) -> Data { Data(#"{"answer":"\#(text)"}"#.utf8) }
}
