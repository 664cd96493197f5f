import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import SemanticCache
import Testing

/// The Responses API (`POST /v1/responses`) through the cache, one behaviour per test.
@Suite("Gateway Responses API")
struct ResponsesAPITests {
    typealias H = GatewayHarness

    static let body: JSONValue = ["model": "house-model", "input": "How do I reset my password?", "instructions": "Be brief."]

    static func with(_ changes: [String: JSONValue]) -> JSONValue {
        .object(body.objectValue!.merging(changes) { $1 })
    }

    /// `house-model` is the mock's `mock-gpt` under another name.
    static func run(_ test: @Sendable (H) async throws -> Void) async throws {
        try await H.run(inProcess: true, configure: { $0.models["house-model"] = ModelRoute(provider: "mock", model: "mock-gpt") }, test)
    }

    static func lastType(_ reply: H.Reply) -> String? {
        reply.events.last.flatMap { try? JSONValue.parse($0) }?["type"]?.stringValue
    }

    @Test("a miss is stored; the same request hits, a string input equals one user message, a paraphrase hits semantically")
    func missThenHits() async throws {
        try await Self.run { (h: H) async throws in
            let first = try await h.post("/v1/responses", Self.body)
            #expect(first.status == 200)
            #expect(first.cache == "miss")
            #expect(first.json["object"]?.stringValue == "response")
            let text = try #require(OpenAIWire.firstText(first.json))
            #expect(text.contains("How do I reset my password?"))
            #expect(h.mock.lastBody(to: "/v1/responses")?["model"]?.stringValue == "mock-gpt", "renamed for the provider")
            await h.settle()

            let again = try await h.post("/v1/responses", Self.body)
            #expect(again.cache == "hit")
            #expect(again.json == first.json)
            let asItems = Self.with(["input": [["role": "user", "content": [["type": "input_text", "text": "How do I reset my password?"]]]]])
            #expect(try await h.post("/v1/responses", asItems).cache == "hit", "a string input is one user message")
            let paraphrase = try await h.post("/v1/responses", Self.with(["input": "How can I reset my password?"]))
            #expect(paraphrase.cache == "semantic-hit")
            #expect(OpenAIWire.firstText(paraphrase.json) == text)
            #expect(h.mock.requests(to: "/v1/responses") == 1)
        }
    }

    @Test("other instructions or an earlier turn are other namespaces")
    func namespaces() async throws {
        try await Self.run { (h: H) async throws in
            #expect(try await h.post("/v1/responses", Self.body).cache == "miss")
            await h.settle()
            #expect(try await h.post("/v1/responses", Self.with(["instructions": "Answer in French."])).cache == "miss")
            #expect(try await h.post("/v1/responses", Self.with(["previous_response_id": "resp_123"])).cache == "miss")
        }
    }

    /// An answer the provider did not store has an id nobody can continue from: it serves only
    /// other requests that do not store either.
    @Test("an answer made with store: false serves only requests that do not store")
    func unstored() async throws {
        try await Self.run { (h: H) async throws in
            let unstored = Self.with(["input": "What is the capital of Chile?", "store": false])
            #expect(try await h.post("/v1/responses", unstored).cache == "miss")
            await h.settle()
            #expect(try await h.post("/v1/responses", unstored).cache == "hit")
            #expect(try await h.post("/v1/responses", Self.with(["input": "What is the capital of Chile?"])).cache == "miss")
            await h.settle()
            #expect(try await h.post("/v1/responses", Self.with(["input": "What is the capital of Chile?", "store": true])).cache == "hit")
        }
    }

    @Test("background responses and turns of a conversation always reach the provider")
    func providerSideEffects() async throws {
        try await Self.run { (h: H) async throws in
            // A background response is fetched later by id: nothing to look up or store now.
            #expect(try await h.post("/v1/responses", Self.with(["background": true])).cache == "bypass")
            // A turn of a conversation must reach the provider, which appends it there.
            #expect(try await h.post("/v1/responses", Self.with(["conversation": "conv_1"])).cache == "bypass")
            await h.settle()
            #expect(try await h.post("/v1/responses", Self.with(["conversation": "conv_1"])).cache == "bypass")
            #expect(h.mock.requests(to: "/v1/responses") == 3)
        }
    }

    @Test("a hit asked as a stream is replayed as the typed events OpenAI sends, numbered, without [DONE]")
    func streamedReplay() async throws {
        try await Self.run { (h: H) async throws in
            let first = try await h.post("/v1/responses", Self.body)
            let text = try #require(OpenAIWire.firstText(first.json))
            await h.settle()
            let replay = try await h.post("/v1/responses", Self.with(["stream": true]))
            #expect(replay.cache == "hit")
            #expect(replay.headers.first(name: "content-type") == "text/event-stream")
            let events = replay.events.compactMap { try? JSONValue.parse($0) }
            #expect(events.compactMap { $0["type"]?.stringValue }.filter { !$0.hasSuffix(".delta") } == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
            ])
            #expect(events.map { $0["sequence_number"]?.intValue ?? -1 } == Array(0..<events.count))
            let deltas = events.filter { $0["type"]?.stringValue == "response.output_text.delta" }
            #expect(deltas.count > 1)
            #expect(deltas.compactMap { $0["delta"]?.stringValue }.joined() == text)
            #expect(events.last?["response"] == first.json)
            #expect(replay.text.contains("event: response.completed\ndata: "))
            #expect(!replay.text.contains("[DONE]"), "Responses API streams do not end with [DONE]")
        }
    }

    @Test("a streamed miss is stored from its response.completed event; a stream cut before it is not")
    func streamedMiss() async throws {
        try await Self.run { (h: H) async throws in
            let streamedMiss = try await h.post("/v1/responses", Self.with(["stream": true, "input": "What is the capital of Peru?"]))
            #expect(streamedMiss.cache == "miss")
            #expect(Self.lastType(streamedMiss) == "response.completed")
            await h.settle()
            let stored = try await h.post("/v1/responses", Self.with(["input": "What is the capital of Peru?"]))
            #expect(stored.cache == "hit")
            #expect(OpenAIWire.firstText(stored.json)?.contains("Peru") == true)

            let cut = try await h.post("/v1/responses", ["model": "mock-cut-stream", "input": "Tell me a story", "stream": true])
            #expect(cut.events.last.flatMap { try? JSONValue.parse($0) }?["error"] != nil, "\(cut.text)")
            await h.settle()
            #expect(try await h.post("/v1/responses", ["model": "mock-cut-stream", "input": "Tell me a story"]).cache == "miss")
        }
    }

    @Test("an input that is neither a string nor a list is a 400")
    func badInput() async throws {
        try await Self.run { (h: H) async throws in
            let reply = try await h.post("/v1/responses", ["model": "house-model", "input": 42])
            #expect(reply.status == 400)
            #expect(reply.json["error"]?["param"]?.stringValue == "input")
        }
    }

    /// Cut by max_output_tokens after saying something: kept, like chat's `length`, and
    /// replayed ending in response.incomplete as OpenAI ends it; cut before it said anything
    /// (a reasoning model that spent the limit thinking): not kept.
    @Test("an answer cut by max_output_tokens is kept when it said something, and replayed ending in response.incomplete")
    func incomplete() async throws {
        try await Self.run { (h: H) async throws in
            let limited = Self.with(["input": "Describe the ocean", "max_output_tokens": 4])
            #expect(try await h.post("/v1/responses", limited).json["status"]?.stringValue == "incomplete")
            await h.settle()
            #expect(try await h.post("/v1/responses", limited).cache == "hit")
            let replay = try await h.post("/v1/responses", Self.with(["input": "Describe the ocean", "max_output_tokens": 4, "stream": true]))
            #expect(replay.cache == "hit")
            #expect(Self.lastType(replay) == "response.incomplete")

            let streamed = try await h.post("/v1/responses", Self.with(["input": "Describe the desert", "max_output_tokens": 4, "stream": true]))
            #expect(streamed.cache == "miss")
            #expect(Self.lastType(streamed) == "response.incomplete")
            #expect(!streamed.text.contains("upstream_stream_cut"))
            await h.settle()
            #expect(try await h.post("/v1/responses", Self.with(["input": "Describe the desert", "max_output_tokens": 4])).cache == "hit")

            let nothing: JSONValue = ["model": "mock-reasoning", "input": "Describe the forest", "max_output_tokens": 20]
            #expect(try await h.post("/v1/responses", nothing).json["status"]?.stringValue == "incomplete")
            await h.settle()
            #expect(try await h.post("/v1/responses", nothing).cache == "miss")
        }
    }
}
