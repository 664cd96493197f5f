import MockProvider
import DejaSupport
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import Testing

/// The remote embedder against Deja's own mock OpenAI server on 127.0.0.1.
@Suite("RemoteEmbedder")
struct RemoteEmbedderTests {
    static let client = HTTPClient(configuration: .deja())

    func configuration(_ port: Int, model: String = "mock-embed-64", retries: Int = 0, timeout: Double = 5) -> RemoteEmbedderConfiguration {
        RemoteEmbedderConfiguration(
            baseURL: "http://127.0.0.1:\(port)/v1", model: model, batchSize: 2, timeout: timeout,
            maxRetries: retries, backoffMilliseconds: 10)
    }

    @Test("learns the dimension, batches, keeps order and normalises")
    func success() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            let embedder = try await RemoteEmbedder.connect(configuration(port), client: Self.client)
            #expect(embedder.dimension == 64)
            let texts = ["one", "two", "three", "four", "five"]
            let vectors = try await embedder.embed(texts)
            #expect(vectors.count == 5)
            // 1 probe + 3 batches of at most 2
            #expect(mock.requests(to: "/v1/embeddings") == 4)
            let again = try await embedder.embed(["three"])
            #expect(again[0] == vectors[2])
            for v in vectors { #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4) }
            // Answered in reverse order with their indices: each text still gets its own vector.
            let reversed = try await RemoteEmbedder.connect(configuration(port, model: "mock-embed-reversed"), client: Self.client)
            #expect(try await reversed.embed(texts) == vectors)
            // Indices that do not say which vector is whose are refused, not guessed.
            let clashing = try await RemoteEmbedder.connect(configuration(port, model: "mock-embed-index-0"), client: Self.client)
            await #expect(throws: EmbeddingError.self) { try await clashing.embed(["one", "two"]) }
        }
    }

    @Test("sends the API key from the named variable, and refuses to start without it")
    func apiKey() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            var c = configuration(port)
            c.apiKeyEnv = "DEJA_TEST_EMBED_KEY"
            await #expect(throws: EmbeddingError.missingAPIKey(variable: "DEJA_TEST_EMBED_KEY")) {
                try await RemoteEmbedder.connect(c, client: Self.client, environment: [:])
            }
            let embedder = try await RemoteEmbedder.connect(
                c, client: Self.client, environment: ["DEJA_TEST_EMBED_KEY": "sk-test-123"])
            _ = try await embedder.embed(["hello"])
            #expect(mock.lastHeaders(to: "/v1/embeddings")["authorization"] == "Bearer sk-test-123")
            #expect(!embedder.identity.contains("sk-test"))
        }
    }

    @Test("a 500 is retried, then reported with its status")
    func serverError() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            var c = configuration(port, model: "mock-error-500", retries: 2)
            c.dimension = 64
            let embedder = try await RemoteEmbedder.connect(c, client: Self.client)
            do throws(EmbeddingError) {
                _ = try await embedder.embed(["hello"])
                Issue.record("expected an error")
            } catch {
                guard case .httpStatus(_, let status, let message) = error else {
                    Issue.record("expected httpStatus, got \(error)")
                    return
                }
                #expect(status == 500)
                #expect(message.contains("internal error"))
            }
            #expect(mock.requests(to: "/v1/embeddings") == 3)
        }
    }

    @Test("503s are retried until the endpoint recovers")
    func flaky() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            var c = configuration(port, model: "mock-flaky-2", retries: 3)
            c.dimension = 64
            let embedder = try await RemoteEmbedder.connect(c, client: Self.client)
            let v = try await embedder.embed(["hello"])
            #expect(v.count == 1)
            #expect(mock.requests(to: "/v1/embeddings") == 3)
        }
    }

    @Test("a slow endpoint times out with a typed error")
    func timeout() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            var c = configuration(port, model: "mock-timeout", retries: 0, timeout: 0.3)
            c.dimension = 64
            let embedder = try await RemoteEmbedder.connect(c, client: Self.client)
            let start = Date()
            await #expect(throws: EmbeddingError.timeout(url: "http://127.0.0.1:\(port)/v1/embeddings", seconds: 0.3)) {
                try await embedder.embed(["hello"])
            }
            #expect(Date().timeIntervalSince(start) < 5)
        }
    }

    @Test("garbage, wrong dimensions and refused connections are typed errors")
    func badAnswers() async throws {
        let mock = MockUpstream()
        try await mock.withRunning { port in
            var garbage = configuration(port, model: "mock-garbage")
            garbage.dimension = 64
            await #expect(throws: EmbeddingError.self) { try await RemoteEmbedder.connect(garbage, client: Self.client).embed(["x"]) }
            var wrong = configuration(port, model: "mock-embed-32")
            wrong.dimension = 64
            await #expect(throws: EmbeddingError.dimensionMismatch(
                source: "http://127.0.0.1:\(port)/v1/embeddings", expected: 64, got: 32)) {
                try await RemoteEmbedder.connect(wrong, client: Self.client).embed(["x"])
            }
        }
        // Nothing listens on port 9 (discard) here.
        // A timeout far above the bound below: the error must come from the refusal, not the
        // clock, and a loaded machine (the whole suite in parallel) still passes well under it.
        var refused = configuration(9, timeout: 20)
        refused.dimension = 8
        let embedder = try await RemoteEmbedder.connect(refused, client: Self.client)
        let start = Date()
        do throws(EmbeddingError) {
            _ = try await embedder.embed(["x"])
            Issue.record("expected an error")
        } catch {
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
        }
        #expect(Date().timeIntervalSince(start) < 5, "a refused connection must fail fast, not wait for the timeout")
        await #expect(throws: EmbeddingError.self) {
            try await RemoteEmbedder.connect(RemoteEmbedderConfiguration(baseURL: "ftp://x", model: ""))
        }
    }

    /// A gateway restarted while its embeddings service is down must still start (and fail
    /// open); it can when the cache it reopens says what dimension the service gives.
    @Test("an endpoint down at start: an error that says to set the dimension, or the stored cache's dimension")
    func downAtStart() async throws {
        let down = configuration(9)  // nothing listens on port 9 here
        await #expect {
            try await RemoteEmbedder.connect(down, client: Self.client)
        } throws: { error in
            "\(error)".contains("set embedder.remote.dimension")
        }
        let stored = "remote(http://127.0.0.1:9/v1,model=mock-embed-64,dim=64)"
        #expect(RemoteEmbedder.dimension(inIdentity: stored, of: down) == 64)
        #expect(RemoteEmbedder.dimension(inIdentity: stored, of: configuration(9, model: "other")) == nil)
        #expect(RemoteEmbedder.dimension(inIdentity: "hashing-v1(dim=384)", of: down) == nil)
        let embedder = try await RemoteEmbedder.connect(down, client: Self.client, knownDimension: 64)
        #expect(embedder.dimension == 64)
        #expect(embedder.identity == stored)
        #expect(embedder.startFailure != nil)
        await #expect(throws: EmbeddingError.self) { try await embedder.embed(["x"]) }
        // An endpoint that answers is asked, whatever the cache says.
        let mock = MockUpstream()
        try await mock.withRunning { port in
            let asked = try await RemoteEmbedder.connect(configuration(port), client: Self.client, knownDimension: 12)
            #expect(asked.dimension == 64 && asked.startFailure == nil)
        }
    }
}
