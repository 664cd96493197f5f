import MockProvider
import DejaSupport
import Foundation
import NIOHTTP1
import Gateway
import SemanticCache
import Testing
import TestSupport

@Suite("Gateway proxy")
struct ProxyTests {
    typealias H = GatewayHarness

    @Test("a miss goes upstream and is stored; a repeat hits exactly; a paraphrase hits semantically")
    func missThenHits() async throws {
        try await H.run(inProcess: true) { h in
            let first = try await h.chat("How do I reset my password?", headers: ["x-request-id": "client-id-1"])
            #expect(first.status == 200)
            #expect(first.cache == "miss")
            #expect(first.headers.first(name: "x-request-id") == "client-id-1")
            #expect(first.json["object"]?.stringValue == "chat.completion")
            await h.settle()

            let second = try await h.chat("How do I reset my password?")
            #expect(second.cache == "hit")
            #expect(second.headers.first(name: "x-deja-entry") != nil)
            #expect(second.headers.first(name: "x-request-id")?.hasPrefix("req_") == true)
            #expect(second.assistantText == first.assistantText)

            let third = try await h.chat("How can I reset my password?")
            #expect(third.cache == "semantic-hit")
            #expect(Double(third.headers.first(name: "x-deja-similarity") ?? "") ?? 0 >= 0.8)
            #expect(third.assistantText == first.assistantText)
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)

            let other = try await h.chat("What is the capital of France?")
            #expect(other.cache == "miss")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 2)
        }
    }

    @Test("a streamed miss passes through chunk by chunk and is cached; hits replay as valid streams")
    func streaming() async throws {
        try await H.run { h in
            let miss = try await h.chat("Explain recursion in programming", stream: true)
            #expect(miss.status == 200)
            #expect(miss.cache == "miss")
            #expect(miss.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(miss.events.last == "[DONE]")
            #expect(miss.assistantText?.contains("Explain recursion") == true)
            await h.settle()

            // The streamed answer was assembled and stored: a plain request hits it.
            let plain = try await h.chat("Explain recursion in programming")
            #expect(plain.cache == "hit")
            #expect(plain.assistantText == miss.assistantText)

            // And a streamed request replays it as a stream, with usage when asked for.
            let replay = try await h.chat("Explain recursion in programming", stream: true,
                                          extra: ["stream_options": ["include_usage": true]])
            #expect(replay.cache == "hit")
            #expect(replay.events.last == "[DONE]")
            #expect(replay.assistantText == miss.assistantText)
            let chunks = replay.events.dropLast().compactMap { try? JSONValue.parse($0) }
            #expect(chunks.count > 2, "the replay has chunks: \(replay.text)")
            #expect(chunks.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" })
            #expect(chunks.last?["usage"]?["total_tokens"]?.intValue != nil)
            #expect(chunks.last?["choices"]?.arrayValue?.isEmpty == true)
            let noUsage = try await h.chat("Explain recursion in programming", stream: true)
            let noUsageChunks = noUsage.events.compactMap { try? JSONValue.parse($0) }
            #expect(noUsageChunks.count > 2, "the replay has chunks: \(noUsage.text)")
            #expect(noUsageChunks.allSatisfy { $0["usage"] == nil })
            // Replays are kept: the same bytes again, each with or without usage as asked.
            let again = try await h.chat("Explain recursion in programming", stream: true,
                                         extra: ["stream_options": ["include_usage": true]])
            #expect(again.body == replay.body)
            #expect(try await h.chat("Explain recursion in programming", stream: true).body == noUsage.body)
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)
        }
    }

    @Test("a streamed miss reaches the client before the upstream has finished")
    func firstChunkEarly() async throws {
        try await H.run { h in
            var request = HTTPClientRequest(url: h.base + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            let body = CacheKeys.plainChatBody(model: "mock-slow-stream", prompt: "Tell me a story", system: nil)
            var object = body.objectValue!
            object["stream"] = true
            request.body = .bytes(ByteBuffer(data: JSONValue.object(object).canonicalData))
            let start = Date()
            let response = try await H.client.execute(request, timeout: .seconds(30))
            var firstAt: TimeInterval?
            var all = Data()
            for try await chunk in response.body {
                if firstAt == nil { firstAt = Date().timeIntervalSince(start) }
                all.append(Data(buffer: chunk))
            }
            let total = Date().timeIntervalSince(start)
            // mock-slow-stream waits 200 ms between its events (more than 10 of them).
            #expect(total > 1.0)
            #expect((firstAt ?? total) < total - 0.8, "first chunk at \(firstAt ?? -1) s of \(total) s")
            #expect(String(decoding: all, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
        }
    }


    /// A client that stops reading ("stop generating", a timeout) ends the upstream call too,
    /// instead of Deja paying for the rest of an answer nobody reads; the part that came is not
    /// an answer and is not stored.
    @Test("a client that hangs up mid-stream ends the upstream call, and nothing is stored")
    func clientHangsUp() async throws {
        try await H.run { h in
            var body = CacheKeys.plainChatBody(model: "mock-slow-stream", prompt: "Tell me a long story", system: nil).objectValue!
            body["stream"] = true
            let json = JSONValue.object(body).canonicalData
            let port = h.port
            let head = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port, timeout: 5)
                try connection.send(Array("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(json.count)\r\n\r\n".utf8) + Array(json))
                return try connection.readHead()
            }  // closed on return, after the first event
            #expect(head.contains("x-deja-cache: miss"))
            var abandoned = 0
            for _ in 0..<50 where abandoned == 0 {
                try await Task.sleep(for: .milliseconds(100))
                abandoned = h.mock.abandonedStreams
            }
            #expect(abandoned == 1, "the upstream stream was read to its end after the client left")
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 0)
            #expect(try await h.chat("Tell me a long story", model: "mock-slow-stream", stream: true).cache == "miss")
        }
    }

    /// The opposite choice for a plain miss: it is finished and stored, so that a client that
    /// timed out finds the answer on its retry instead of paying for a second call.
    @Test("a plain miss whose client gave up is still stored, and the retry hits")
    func clientGivesUp() async throws {
        try await H.run(upstreamLatency: .milliseconds(600)) { h in
            let json = CacheKeys.plainChatBody(model: "gpt-test", prompt: "Why is the sky blue?", system: nil).canonicalData
            let port = h.port
            try await onOwnThread {
                let connection = try RawHTTPConnection(port: port)
                try connection.send(Array("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(json.count)\r\n\r\n".utf8) + Array(json))
                Thread.sleep(forTimeInterval: 0.1)
            }  // closed while the upstream is still thinking
            var stored = 0
            for _ in 0..<50 where stored == 0 {
                try await Task.sleep(for: .milliseconds(100))
                await h.settle()
                stored = h.gateway.cache.stats.entries
            }
            #expect(stored == 1)
            #expect(try await h.chat("Why is the sky blue?").cache == "hit")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)
        }
    }

    @Test("misses do not queue behind each other: many upstream calls are in flight at once")
    func concurrentMisses() async throws {
        // AsyncHTTPClient alone keeps 8 connections per host, so 24 slow misses would reach the
        // upstream 8 at a time; server.upstream_connections lifts that. The provider's timeout
        // is raised from the harness's 2 s: on a loaded 2-core CI machine a 1 s answer among 24
        // could take longer than that, and this test is about concurrency, not timeouts.
        try await H.run(inProcess: true, configure: { $0.providers["mock"]?.timeout = 15 }, upstreamLatency: .seconds(1)) { h in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<24 {
                    group.addTask { try await h.chat("Question number \(i) about slow upstreams").status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 24))
            // 8 with the pool's old limit; 24 on an idle machine; fewer when other tests slow the start.
            #expect(h.mock.peakConcurrentRequests > 12, "at most \(h.mock.peakConcurrentRequests) upstream calls at once")
        }
    }
    @Test("per-request controls: no-cache, no-store, max-age, x-deja-threshold, x-deja-ttl, x-deja-namespace")
    func controls() async throws {
        try await H.run(inProcess: true) { h in
            let prompt = "How do I boil an egg?"
            _ = try await h.chat(prompt, headers: ["cache-control": "no-store"])
            await h.settle()
            #expect(try await h.chat(prompt, headers: ["cache-control": "no-store"]).cache == "bypass")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 2)
            #expect(h.gateway.cache.stats.entries == 0, "no-store stores nothing")

            let noCache = try await h.chat(prompt, headers: ["cache-control": "no-cache"])
            #expect(noCache.cache == "bypass")
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 1, "no-cache still stores")
            #expect(try await h.chat(prompt).cache == "hit")

            try await Task.sleep(for: .milliseconds(1100))
            let fresh = try await h.chat(prompt, headers: ["cache-control": "max-age=3600"])
            #expect(fresh.cache == "hit")
            #expect(fresh.headers.first(name: "age").flatMap(Int.init) ?? 0 >= 1, "a hit says how old it is")
            #expect(try await h.chat(prompt, headers: ["cache-control": "max-age=1"]).cache == "miss", "too old for this client")
            #expect(try await h.chat(prompt, headers: ["cache-control": "max-age=0"]).cache == "bypass")
            await h.settle()
            let renewed = try await h.chat(prompt, headers: ["cache-control": "max-age=60"])
            #expect(renewed.cache == "hit")
            #expect(renewed.headers.first(name: "x-deja-entry") != fresh.headers.first(name: "x-deja-entry"),
                    "the miss stored a newer answer in place of the old one")

            let strict = try await h.chat("How do you boil an egg", headers: ["x-deja-threshold": "0.9999"])
            #expect(strict.cache == "miss")
            let loose = try await h.chat("How do you boil an egg", headers: ["x-deja-threshold": "0.1"])
            #expect(loose.cache == "semantic-hit" || loose.cache == "hit", "a lower threshold cannot loosen; it stays configured")

            #expect(try await h.chat(prompt, headers: ["x-deja-namespace": "team-b"]).cache == "miss")
            await h.settle()
            #expect(try await h.chat(prompt, headers: ["x-deja-namespace": "team-b"]).cache == "hit")

            _ = try await h.chat("What is the speed of light?", headers: ["x-deja-ttl": "3600"])
            await h.settle()
            let entry = try await h.post("/v1/cache/search", ["text": "speed of light", "k": 1], headers: h.admin)
            let first = entry.json["data"]?.arrayValue?.first
            let created = first?["created_at"]?.intValue ?? 0
            #expect(first?["expires_at"]?.intValue == created + 3600)

            for bad in [["x-deja-threshold": "2"], ["x-deja-ttl": "-5"], ["x-deja-namespace": "has space"], ["cache-control": "max-age=soon"]] {
                let reply = try await h.chat(prompt, headers: bad)
                #expect(reply.status == 400)
                #expect(reply.json["error"]?["code"]?.stringValue == "invalid_header")
            }
        }
    }

    @Test("a model's own threshold decides its semantic hits")
    func routeThreshold() async throws {
        try await H.run(inProcess: true, configure: { $0.models["strict-model"] = ModelRoute(provider: "mock", threshold: 0.995) }) { h in
            for model in ["gpt-test", "strict-model"] {
                _ = try await h.chat("How do I reset my password?", model: model)
            }
            await h.settle()
            #expect(try await h.chat("How can I reset my password?", model: "gpt-test").cache == "semantic-hit")
            #expect(try await h.chat("How can I reset my password?", model: "strict-model").cache == "miss")
            #expect(try await h.chat("How do I reset my password?", model: "strict-model").cache == "hit")
        }
    }

    @Test("n > 1 is not cached; tool requests are cached only within their exact namespace; empty cut answers are not cached")
    func whatIsCached() async throws {
        try await H.run(inProcess: true) { h in
            _ = try await h.chat("Give me three names for a cat", extra: ["n": 3])
            await h.settle()
            #expect(try await h.chat("Give me three names for a cat", extra: ["n": 3]).cache == "bypass")
            #expect(h.gateway.cache.stats.entries == 0)

            let tools: JSONValue = [["type": "function", "function": ["name": "lookup", "parameters": ["type": "object"]]]]
            let first = try await h.chat("Find the order status", model: "mock-tools", extra: ["tools": tools])
            #expect(first.json["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "tool_calls")
            await h.settle()
            #expect(try await h.chat("Find the order status", model: "mock-tools", extra: ["tools": tools]).cache == "hit")
            let otherTools: JSONValue = [["type": "function", "function": ["name": "search", "parameters": ["type": "object"]]]]
            #expect(try await h.chat("Find the order status", model: "mock-tools", extra: ["tools": otherTools]).cache == "miss")
            #expect(try await h.chat("Find the order status", model: "mock-tools").cache == "miss")

            // An answer cut by the token limit is cached when it says something; one cut before
            // it said anything (a reasoning model that spent the limit thinking) is not.
            for stream in [false, true] {
                let limit: [String: JSONValue] = ["max_completion_tokens": 55]
                let short = try await h.chat("Describe the sea \(stream)", model: "mock-reasoning", stream: stream, extra: limit)
                #expect(short.assistantText?.split(separator: " ").count == 5, "\(short.text)")
                let empty = try await h.chat("Describe the sky \(stream)", model: "mock-reasoning", stream: stream,
                                             extra: ["max_completion_tokens": 40])
                #expect(empty.assistantText ?? "" == "", "\(empty.text)")
                await h.settle()
                #expect(try await h.chat("Describe the sea \(stream)", model: "mock-reasoning", extra: limit).cache == "hit")
                #expect(try await h.chat("Describe the sky \(stream)", model: "mock-reasoning",
                                         extra: ["max_completion_tokens": 40]).cache == "miss", "stream: \(stream)")
            }
        }
    }

    /// Streams as other providers send them: a reasoning model's thinking (DeepSeek, vLLM), the
    /// deprecated functions API, Azure OpenAI's opening chunk of prompt filter results. A streamed
    /// miss is stored whole, and served again both plain and streamed with nothing lost.
    @Test("reasoning, legacy function calls and Azure's opening chunk survive a streamed miss and both replays")
    func providerStreamShapes() async throws {
        try await H.run(inProcess: true) { h in
            for model in ["mock-reasoning", "mock-functions", "mock-filtered"] {
                let prompt = "Where is my parcel?"
                let plainUpstream = try await h.chat(prompt, model: model, headers: ["cache-control": "no-store"])
                let expected = plainUpstream.json["choices"]?.arrayValue?.first
                let miss = try await h.chat(prompt, model: model, stream: true)
                #expect(miss.cache == "miss" && miss.events.last == "[DONE]", "\(model)")
                await h.settle()

                let plain = try await h.chat(prompt, model: model)
                #expect(plain.cache == "hit", "\(model)")
                let choice = plain.json["choices"]?.arrayValue?.first
                #expect(choice?["message"]?["reasoning_content"] == expected?["message"]?["reasoning_content"], "\(model): \(plain.text)")
                #expect(choice?["message"]?["function_call"] == expected?["message"]?["function_call"], "\(model): \(plain.text)")
                #expect(choice?["message"]?["content"] == expected?["message"]?["content"], "\(model): \(plain.text)")
                #expect(choice?["finish_reason"] == expected?["finish_reason"], "\(model)")
                #expect(plain.json["model"]?.stringValue == model, "\(model): \(plain.text)")
                #expect(plain.json["id"]?.stringValue?.isEmpty == false && (plain.json["created"]?.intValue ?? 0) > 0,
                        "\(model): \(plain.text)")

                let replay = try await h.chat(prompt, model: model, stream: true)
                #expect(replay.cache == "hit" && replay.events.last == "[DONE]", "\(model)")
                let deltas = replay.events.dropLast().compactMap { try? JSONValue.parse($0) }
                    .compactMap { $0["choices"]?.arrayValue?.first?["delta"] }
                let thinking = deltas.compactMap { $0["reasoning_content"]?.stringValue }.joined()
                #expect(thinking == expected?["message"]?["reasoning_content"]?.stringValue ?? "", "\(model)")
                let call = deltas.compactMap { $0["function_call"] }.first
                #expect(call == expected?["message"]?["function_call"] ?? nil, "\(model)")
            }
        }
    }

    @Test("legacy completions are cached and replayed as a stream")
    func legacyCompletions() async throws {
        try await H.run(inProcess: true) { h in
            let body: JSONValue = ["model": "gpt-test-instruct", "prompt": "Say hello to the world"]
            let first = try await h.post("/v1/completions", body)
            #expect(first.status == 200)
            #expect(first.json["object"]?.stringValue == "text_completion")
            await h.settle()
            let second = try await h.post("/v1/completions", body)
            #expect(second.cache == "hit")
            var streamed = body.objectValue!
            streamed["stream"] = true
            let replay = try await h.post("/v1/completions", .object(streamed))
            #expect(replay.events.last == "[DONE]")
            let text = replay.events.dropLast().compactMap { try? JSONValue.parse($0) }
                .compactMap { $0["choices"]?.arrayValue?.first?["text"]?.stringValue }.joined()
            #expect(!text.isEmpty)
            #expect(text == first.json["choices"]?.arrayValue?.first?["text"]?.stringValue)
        }
    }

    @Test("embeddings: Deja's own as floats or base64 at its own dimension; other models proxied")
    func embeddings() async throws {
        try await H.run(inProcess: true) { h in
            let own = try await h.post("/v1/embeddings", ["model": "deja-embed", "input": ["hello world", "goodbye"]])
            #expect(own.status == 200)
            #expect(own.json["data"]?.arrayValue?.count == 2)
            #expect(own.json["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.count == 384)
            let b64 = try await h.post("/v1/embeddings", ["model": "deja-embed", "input": "hi", "encoding_format": "base64"])
            let decoded = Data(base64Encoded: b64.json["data"]?.arrayValue?.first?["embedding"]?.stringValue ?? "")
            #expect(decoded?.count == 384 * 4)
            let numberFormat = try await h.post("/v1/embeddings", ["model": "deja-embed", "input": "hi", "encoding_format": 1])
            #expect(numberFormat.status == 400 && numberFormat.json["error"]?["param"]?.stringValue == "encoding_format")
            #expect(try await h.post("/v1/embeddings", ["model": "deja-embed", "input": "hi", "dimensions": 384]).status == 200)
            let shortened = try await h.post("/v1/embeddings", ["model": "deja-embed", "input": "hi", "dimensions": 64])
            #expect(shortened.status == 400 && shortened.json["error"]?["param"]?.stringValue == "dimensions", "\(shortened.text)")
            let proxied = try await h.post("/v1/embeddings", ["model": "mock-embed-16", "input": "hello"])
            #expect(proxied.json["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.count == 16)
            #expect(h.mock.requests(to: "/v1/embeddings") == 1)
        }
    }

    @Test("the model list holds the configured names, the provider's models (kept a minute per tenant) and Deja's embedder")
    func modelList() async throws {
        try await H.run(inProcess: true) { h in
            // The list: configured names, then what the provider of "*" lists, then Deja's embedder.
            let models = try await h.request(.GET, "/v1/models", headers: ["authorization": "Bearer sk-client"], contentType: nil)
            #expect(models.json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                    == ["mock-gpt", "mock-embed", "mock-tools", "mock-slow-stream", "deja-embed"])
            #expect(h.mock.lastHeaders(to: "/v1/models")["authorization"] == "Bearer sk-client")
            // Kept a minute, per tenant: the same client again is answered without the provider.
            _ = try await h.request(.GET, "/v1/models", headers: ["authorization": "Bearer sk-client"], contentType: nil)
            #expect(h.mock.requests(to: "/v1/models") == 1)
            _ = try await h.request(.GET, "/v1/models", headers: ["authorization": "Bearer sk-other"], contentType: nil)
            #expect(h.mock.requests(to: "/v1/models") == 2, "another key may see other models")
            let one = try await h.request(.GET, "/v1/models/gpt-test", contentType: nil)
            #expect(one.status == 200)
            #expect(one.json["id"]?.stringValue == "gpt-test")
            #expect(one.json["owned_by"]?.stringValue == "mock")
            #expect(try await h.request(.GET, "/v1/models/deja-embed", contentType: nil).json["owned_by"]?.stringValue == "deja")
        }
    }

    @Test("without \"*\", the model list is the configured names, and another model is a 404")
    func configuredModelsOnly() async throws {
        try await H.run(inProcess: true, configure: { $0.models = ["only-model": ModelRoute(provider: "mock")] }) { h in
            let models = try await h.request(.GET, "/v1/models", contentType: nil)
            #expect(models.json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["only-model", "deja-embed"],
                    "without \"*\", only the configured names")
            #expect(h.mock.requests(to: "/v1/models") == 0)
            #expect(try await h.request(.GET, "/v1/models/only-model", contentType: nil).status == 200)
            let missing = try await h.request(.GET, "/v1/models/gpt-4o", contentType: nil)
            #expect(missing.status == 404)
            #expect(missing.json["error"]?["code"]?.stringValue == "model_not_found")
        }
    }

    @Test("a provider that cannot list its models leaves the configured ones, not an error")
    func modelListWithProviderDown() async throws {
        try await H.run(inProcess: true, configure: {
            $0.providers["down"] = ProviderConfiguration(baseURL: "http://127.0.0.1:9/v1")
            $0.models = ["house-model": ModelRoute(provider: "mock"), "*": ModelRoute(provider: "down")]
        }) { h in
            let models = try await h.request(.GET, "/v1/models", contentType: nil)
            #expect(models.status == 200)
            #expect(models.json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["house-model", "deja-embed"])
        }
    }

    @Test("clients with their own keys and no provider key are separate tenants")
    func tenants() async throws {
        try await H.run(inProcess: true) { h in
            let a = ["authorization": "Bearer sk-tenant-a"]
            let b = ["authorization": "Bearer sk-tenant-b"]
            _ = try await h.chat("What is our refund policy?", headers: a)
            await h.settle()
            #expect(try await h.chat("What is our refund policy?", headers: a).cache == "hit")
            #expect(try await h.chat("What is our refund policy?", headers: b).cache == "miss")
            #expect(h.mock.lastHeaders(to: "/v1/chat/completions")["authorization"] == "Bearer sk-tenant-b")
        }
    }

    @Test("request ids and OpenAI headers go upstream; rate limits and the provider's request id come back on a miss")
    func forwardedHeaders() async throws {
        try await H.run(inProcess: true) { h in
            let client = ["authorization": "Bearer sk-client", "x-request-id": "trace-42", "openai-project": "proj_a",
                          "openai-organization": "org_a", "openai-beta": "assistants=v2", "cookie": "session=secret"]
            let miss = try await h.chat("How many moons does Mars have?", headers: client)
            #expect(miss.cache == "miss")
            let sent = h.mock.lastHeaders(to: "/v1/chat/completions")
            #expect(sent["x-request-id"] == "trace-42")
            #expect(sent["openai-project"] == "proj_a")
            #expect(sent["openai-organization"] == "org_a")
            #expect(sent["openai-beta"] == "assistants=v2")
            #expect(sent["cookie"] == nil, "a client's cookies are not the provider's business")
            #expect(miss.headers.first(name: "x-request-id") == "trace-42")
            #expect(miss.headers.first(name: "x-upstream-request-id") == "req_mock")
            #expect(miss.headers.first(name: "x-ratelimit-limit-requests") == "10000")
            #expect(miss.headers.first(name: "openai-processing-ms") == "1")
            #expect(miss.headers.first(name: "set-cookie") == nil, "a provider's cookies are not the client's business")

            let streamed = try await h.chat("How many moons does Jupiter have?", stream: true, headers: client)
            #expect(streamed.headers.first(name: "x-ratelimit-remaining-requests") == "9999")
            let passed = try await h.post("/v1/responses", ["model": "mock-gpt", "input": "hello"])
            #expect(passed.headers.first(name: "x-upstream-request-id") == "req_mock")
            #expect(h.mock.lastHeaders(to: "/v1/responses")["x-request-id"] == passed.headers.first(name: "x-request-id"),
                    "Deja's own request id goes upstream when the client sent none")

            await h.settle()
            let hit = try await h.chat("How many moons does Mars have?", headers: client)
            #expect(hit.cache == "hit")
            #expect(hit.headers.first(name: "x-ratelimit-limit-requests") == nil, "a hit never reached the provider")
        }
    }

    @Test("a configured provider key is sent upstream, and the client's key is not")
    func providerKey() async throws {
        try await H.run(inProcess: true, configure: { $0.providers["mock"]?.apiKeyEnv = "MOCK_KEY" }, environment: ["MOCK_KEY": "sk-provider"]) { h in
            _ = try await h.chat("Hello there, how are you?", headers: ["authorization": "Bearer sk-client"])
            #expect(h.mock.lastHeaders(to: "/v1/chat/completions")["authorization"] == "Bearer sk-provider")
            // The account Deja's key bills to is Deja's choice, not the client's.
            _ = try await h.chat("Hello there, who is this?", headers: ["openai-organization": "org_other", "openai-project": "p"])
            #expect(h.mock.lastHeaders(to: "/v1/chat/completions")["openai-organization"] == nil)
            #expect(h.mock.lastHeaders(to: "/v1/chat/completions")["openai-project"] == nil)
            // The provider refusing Deja's own key is Deja's misconfiguration: 502, naming the variable.
            let refused = try await h.chat("Hello again", model: "mock-error-401")
            #expect(refused.status == 502)
            #expect(refused.json["error"]?["code"]?.stringValue == "upstream_auth")
            #expect(refused.text.contains("MOCK_KEY"))
            #expect(!refused.text.contains("sk-provider"))
        }
    }

    @Test("stored responses are reached by id through the default provider: retrieve, delete, cancel")
    func storedResponses() async throws {
        try await H.run(inProcess: true) { h in
            let client = ["authorization": "Bearer sk-client"]
            let got = try await h.request(.GET, "/v1/responses/resp_abc123?include=reasoning", headers: client, contentType: nil)
            #expect(got.status == 200)
            #expect(got.json["id"]?.stringValue == "resp_abc123")
            #expect(got.json["query"]?.stringValue == "include=reasoning", "the query goes along")
            #expect(got.cache == "bypass")
            #expect(h.mock.lastHeaders(to: "/v1/responses/{id}")["authorization"] == "Bearer sk-client")
            let deleted = try await h.request(.DELETE, "/v1/responses/resp_abc123", contentType: nil)
            #expect(deleted.json["deleted"]?.boolValue == true)
            let cancelled = try await h.request(.POST, "/v1/responses/resp_abc123/cancel", contentType: nil)
            #expect(cancelled.json["status"]?.stringValue == "cancelled")
            let missing = try await h.request(.POST, "/v1/responses/resp_missing/cancel", contentType: nil)
            #expect(missing.status == 404)
            #expect(missing.json["error"]?["message"]?.stringValue == "mock: no response with id 'resp_missing'")
            #expect(try await h.request(.GET, "/v1/responses/resp.abc", contentType: nil).status == 400)
            let counted = try await h.post("/v1/responses/input_tokens", ["model": "gpt-test", "input": "hello"])
            #expect(counted.status == 404, "forwarded: the mock's own 404, not Deja's unknown route")
            #expect(counted.json["error"]?["code"]?.stringValue != "unknown_route")
        }
        // A request that names no model needs a provider to go to.
        try await H.run(inProcess: true, configure: {
            $0.providers["other"] = ProviderConfiguration(baseURL: "http://127.0.0.1:9/v1")
            $0.models = ["gpt-test": ModelRoute(provider: "mock")]
        }) { h in
            let reply = try await h.request(.GET, "/v1/responses/resp_abc123", contentType: nil)
            #expect(reply.status == 404)
            #expect(reply.json["error"]?["code"]?.stringValue == "no_default_provider")
        }
    }

    @Test("moderations, speech and images are forwarded to the model's provider, never cached")
    func passThrough() async throws {
        try await H.run(inProcess: true, configure: { $0.models["house-model"] = ModelRoute(provider: "mock", model: "mock-gpt") }) { h in
            let moderation = try await h.post("/v1/moderations", ["model": "omni-moderation-latest", "input": "hello"])
            #expect(moderation.status == 200)
            #expect(moderation.json["results"]?.arrayValue?.first?["flagged"]?.boolValue == false)
            #expect(moderation.cache == "bypass")
            await h.settle()
            _ = try await h.post("/v1/moderations", ["model": "omni-moderation-latest", "input": "hello"])
            #expect(h.mock.requests(to: "/v1/moderations") == 2, "a pass-through answer must not be served from the cache")

            #expect(try await h.post("/v1/moderations", ["model": "mock-error-500", "input": "x"]).status == 502)
            #expect(try await h.post("/v1/moderations", ["model": "mock-error-400", "input": "x"]).status == 400)
            let noModel = try await h.post("/v1/moderations", ["input": "x"])
            #expect(noModel.status == 400)
            #expect(noModel.json["error"]?["param"]?.stringValue == "model")
            #expect(try await h.post("/v1/nonexistent", ["model": "house-model"]).status == 404)
            // Speech and images go the same way: the mock has no such route, so its own 404 comes
            // back through Deja, not Deja's unknown-route error.
            for path in ["/v1/audio/speech", "/v1/images/generations"] {
                let forwarded = try await h.post(path, ["model": "house-model", "input": "hello"])
                #expect(forwarded.status == 404, "\(path)")
                #expect(forwarded.json["error"]?["code"]?.stringValue != "unknown_route", "\(path): \(forwarded.text)")
            }
        }
    }

    @Test("a client's own key refused upstream is the client's 401, with the provider's message")
    func clientKeyRefused() async throws {
        try await H.run(inProcess: true) { h in
            let reply = try await h.chat("Hello there", model: "mock-error-401", headers: ["authorization": "Bearer sk-wrong"])
            #expect(reply.status == 401)
            #expect(reply.json["error"]?["message"]?.stringValue == "mock: incorrect API key provided")
            #expect(reply.json["error"]?["code"]?.stringValue == "invalid_api_key")
        }
    }
}

import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
