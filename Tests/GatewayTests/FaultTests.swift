import MockProvider
import DejaSupport
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Gateway
import SemanticCache
import Testing
import TestSupport

@Suite("Gateway bad input and upstream faults")
struct FaultTests {
    typealias H = GatewayHarness

    /// Every bad request gets an OpenAI-shaped error with the right status, and the server
    /// keeps serving.
    @Test("bad requests are refused in the OpenAI error shape")
    func badInput() async throws {
        try await H.run { h in
            let cases: [(String, H.Reply, Int)] = [
                ("malformed JSON", try await h.request(.POST, "/v1/chat/completions", body: Data("{\"model\": ".utf8)), 400),
                ("not UTF-8", try await h.request(.POST, "/v1/chat/completions", body: Data(#"{"model": "gpt-test", "messages": [{"role": "user", "content": ""#.utf8) + Data([0xFF]) + Data(#""}]}"#.utf8)), 400),
                ("not an object", try await h.request(.POST, "/v1/chat/completions", body: Data("[1,2]".utf8)), 400),
                ("model of the wrong type", try await h.post("/v1/chat/completions", ["model": 5, "messages": [["role": "user", "content": "hi"]]]), 400),
                ("empty model", try await h.post("/v1/chat/completions", ["model": "", "messages": [["role": "user", "content": "hi"]]]), 400),
                ("missing messages", try await h.post("/v1/chat/completions", ["model": "gpt-test"]), 400),
                ("empty messages", try await h.post("/v1/chat/completions", ["model": "gpt-test", "messages": []]), 400),
                ("messages not an array", try await h.post("/v1/chat/completions", ["model": "gpt-test", "messages": "hi"]), 400),
                ("bad role", try await h.post("/v1/chat/completions", ["model": "gpt-test", "messages": [["role": "wizard", "content": "hi"]]]), 400),
                ("stream not a boolean", try await h.post("/v1/chat/completions", ["model": "gpt-test", "stream": "yes", "messages": [["role": "user", "content": "hi"]]]), 400),
                ("body over the limit", try await h.request(.POST, "/v1/chat/completions", body: Data(repeating: 0x20, count: 200_000)), 413),
                ("wrong content type", try await h.request(.POST, "/v1/chat/completions", body: Data("{}".utf8), contentType: "text/plain"), 415),
                ("no content type", try await h.request(.POST, "/v1/chat/completions", body: Data("{}".utf8), contentType: nil), 415),
                ("unknown route", try await h.request(.GET, "/v1/nothing-here", contentType: nil), 404),
            ]
            for (name, reply, status) in cases {
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.text)")
                #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false, "\(name): \(reply.text)")
                #expect(reply.json["error"]?["type"]?.stringValue != nil, "\(name)")
            }
            #expect(h.mock.requests(to: "/v1/chat/completions") == 0, "nothing bad was forwarded")
            #expect(try await h.chat("Still working?").status == 200)
        }
    }

    /// A client that opens connections and sends nothing (or half a request, a byte now and
    /// then) must not hold them for ever; a model that takes its time must not be cut off.
    @Test("a connection silent for server.idle_timeout is closed, mid-request too; a slow streamed answer is not cut")
    func idleConnections() async throws {
        try await H.run(configure: { $0.server.idleTimeout = 0.15 }) { h in
            let port = h.port
            let (stalled, idle, slow) = try await onOwnThread {
                func closedAfter(_ connection: RawHTTPConnection) throws -> Double {
                    let start = Date()
                    _ = try connection.readToEnd()  // fails after 5 s if the server keeps it open
                    return Date().timeIntervalSince(start)
                }
                let stalled = try RawHTTPConnection(port: port, timeout: 5)
                try stalled.send(Array("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".utf8))
                let stalledAfter = try closedAfter(stalled)
                let idle = try RawHTTPConnection(port: port, timeout: 5)
                try idle.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                _ = try idle.readHead()
                let idleAfter = try closedAfter(idle)
                // mock-slow-stream sends its chunks 200 ms apart, longer than the idle timeout.
                let body = #"{"model":"mock-slow-stream","stream":true,"messages":[{"role":"user","content":"Tell me slowly"}]}"#
                let slow = try RawHTTPConnection(port: port, timeout: 5)
                try slow.send(Array(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8))
                _ = try slow.readHead()
                return (stalledAfter, idleAfter, try slow.readToEnd())
            }
            #expect(stalled < 3, "a half-sent request was held \(stalled) s")
            #expect(idle < 3, "an idle kept-alive connection was held \(idle) s")
            #expect(slow.contains("data: [DONE]"), "the slow stream was cut: \(slow)")
        }
    }

    /// Python's http.client and many others write the whole body before they read: a 413 sent at
    /// the headers, with the rest left unread, left them blocked until the idle timeout.
    @Test("a body over server.max_body_bytes sent whole before reading gets its 413, with Connection: close too")
    func oversizedBodySentWhole() async throws {
        try await H.run(configure: { $0.server.maxBodyBytes = 65_536 }) { h in
            let port = h.port
            let replies = try await onOwnThread {
                try ["Connection: close\r\n", ""].map { connectionHeader in
                    let body = [UInt8](repeating: UInt8(ascii: "A"), count: 8 << 20)
                    let connection = try RawHTTPConnection(port: port, timeout: 5)
                    try connection.send(Array(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\(connectionHeader)\r\n").utf8))
                    try connection.send(body)
                    return try connection.readHead()
                }
            }
            for reply in replies {
                #expect(reply.hasPrefix("HTTP/1.1 413 "), "\(reply)")
            }
        }
    }

    @Test("what the HTTP parser refuses (an unknown method, a control byte in a header) is a 400 in the OpenAI shape, then closed")
    func unparsableRequests() async throws {
        try await H.run { h in
            let port = h.port
            let replies = try await onOwnThread {
                try ["FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u{1}b\r\n\r\n"]
                    .map { raw in
                        let connection = try RawHTTPConnection(port: port, timeout: 5)
                        try connection.send(Array(raw.utf8))
                        return try connection.readToEnd()  // fails if the connection is not closed
                    }
            }
            for reply in replies {
                #expect(reply.hasPrefix("HTTP/1.1 400 "), "\(reply)")
                let body = try #require(reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) })
                let json = try JSONValue.parse(Data(body.utf8))
                #expect(json["error"]?["code"]?.stringValue == "invalid_http", "\(body)")
                #expect(json["error"]?["type"]?.stringValue == "invalid_request_error")
            }
            // The server goes on serving
            #expect(try await h.chat("Still there?").status == 200)
        }
    }

    @Test("Expect: 100-continue is answered at once, so a client that waits for it does not")
    func expectContinue() async throws {
        try await H.run { h in
            let body = CacheKeys.plainChatBody(model: "gpt-test", prompt: "Hello there, how are you?", system: nil).canonicalData
            let port = h.port
            let (interim, final) = try await onOwnThread {
                let connection = try RawHTTPConnection(port: port, timeout: 5)
                try connection.send(Array(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\n\r\n").utf8))
                // Sent before the body: curl would otherwise wait a second before sending it.
                let interim = try connection.readHead()
                try connection.send(body)
                return (interim, try connection.readHead())
            }
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(interim)")
            #expect(final.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(final)")
            #expect(final.lowercased().contains("x-deja-cache: miss"))
        }
    }

    @Test("an unknown model is a 404 in the OpenAI shape")
    func unknownModel() async throws {
        try await H.run(inProcess: true, configure: { $0.models = ["gpt-test": ModelRoute(provider: "mock")] }) { h in
            let reply = try await h.chat("hello", model: "gpt-nope")
            #expect(reply.status == 404)
            #expect(reply.json["error"]?["code"]?.stringValue == "model_not_found")
            #expect(try await h.chat("hello", model: "gpt-test").status == 200)
        }
    }

    /// Upstream failures: the client gets 502 or 504 (or 429 passed through), nothing is
    /// cached, and the next request works.
    @Test("upstream faults map to 502/504 and nothing broken is cached",
          arguments: [("mock-error-500", 502), ("mock-garbage", 502), ("mock-timeout", 504),
                      ("mock-cut-stream", 502), ("mock-error-429", 429), ("mock-error-400", 400)])
    func upstreamFaults(model: String, status: Int) async throws {
        try await H.run(inProcess: true) { h in
            let reply = try await h.chat("What is the meaning of life?", model: model)
            #expect(reply.status == status, "\(reply.text)")
            #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false)
            if status == 429 {
                // The official clients read these to decide whether and when to retry.
                #expect(reply.headers.first(name: "retry-after") == "0")
                #expect(reply.headers.first(name: "retry-after-ms") == "20")
                #expect(reply.headers.first(name: "x-should-retry") == "true")
                #expect(reply.headers.first(name: "x-ratelimit-remaining-requests") == "9999")
            }
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 0)
            let again = try await h.chat("What is the meaning of life?", model: model)
            #expect(again.cache != "hit" && again.cache != "semantic-hit")
            #expect(try await h.chat("And now a normal question?").status == 200)
        }
    }

    @Test("a refused connection is a quick 502, and the request's log line says why")
    func refused() async throws {
        let log = LogCapture()
        try await H.run(inProcess: true, configure: { $0.providers["dead"] = ProviderConfiguration(baseURL: "http://127.0.0.1:9/v1", timeout: 30)
                                     $0.models["dead-model"] = ModelRoute(provider: "dead") }, logger: log.logger) { h in
            let start = Date()
            let reply = try await h.chat("hello", model: "dead-model")
            #expect(reply.status == 502)
            #expect(reply.json["error"]?["code"]?.stringValue == "upstream_unreachable")
            // Far below the 30 s a retry until the deadline would take, with room for a busy machine.
            #expect(Date().timeIntervalSince(start) < 10)
            #expect(try await h.chat("hello").status == 200)
            let line = log.messages.first { $0.hasPrefix("request ") && $0.contains("status=502") } ?? ""
            #expect(line.contains(#"error="The upstream provider 'dead' is unreachable"#), "\(line)")
            #expect(!log.messages.contains { $0.contains("status=200") && $0.contains("error=") })
        }
    }

    @Test("a stream cut mid-way ends with an SSE error event and is not cached")
    func cutStream() async throws {
        try await H.run(inProcess: true) { h in
            let reply = try await h.chat("Tell me a long story", model: "mock-cut-stream", stream: true)
            #expect(reply.status == 200)
            let last = reply.events.last.flatMap { try? JSONValue.parse($0) }
            #expect(last?["error"]?["code"]?.stringValue != nil, "\(reply.text)")
            #expect(!reply.events.contains("[DONE]"))
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 0)
            #expect(try await h.chat("Tell me a long story", model: "mock-cut-stream", stream: true).cache == "miss")
        }
    }

    /// A call's deadline ends when the answer starts; a provider that then goes silent (a
    /// stalled connection) must not hold the client for ever.
    @Test("an upstream that goes silent mid-stream for longer than its timeout ends the stream with a 504 event, nothing cached")
    func stalledStream() async throws {
        try await H.run(inProcess: true) { h in  // the provider's timeout is 2 s; mock-stall-stream is silent for 5 s
            let start = Date()
            let reply = try await h.chat("Tell me a long story", model: "mock-stall-stream", stream: true)
            #expect(Date().timeIntervalSince(start) < 4.5, "held \(Date().timeIntervalSince(start)) s")
            let last = reply.events.last.flatMap { try? JSONValue.parse($0) }
            #expect(last?["error"]?["code"]?.stringValue == "upstream_timeout", "\(reply.text)")
            #expect(last?["error"]?["message"]?.stringValue?.contains("silent") == true)
            #expect(reply.events.count >= 3, "the chunks before the silence reached the client")
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 0)
        }
    }

    @Test("a failing embedder fails open: the answer comes from the upstream")
    func embedderDown() async throws {
        // A remote embedder pointing at a port where nothing listens.
        try await H.run(inProcess: true, configure: {
            $0.embedder.kind = .remote
            $0.embedder.remote = RemoteEmbedderConfiguration(
                baseURL: "http://127.0.0.1:9/v1", model: "x", dimension: 8, timeout: 1, maxRetries: 0)
        }) { h in
            let reply = try await h.chat("How do I reset my password?")
            #expect(reply.status == 200)
            #expect(reply.cache == "miss")
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_cache_lookups_total{result="error"} 1"#))
            #expect(reply.assistantText != nil)
            // The lookup API cannot fail open: it says which part is down.
            let search = try await h.post("/v1/cache/search", ["text": "How do I reset my password?"], headers: h.admin)
            #expect(search.status == 503, "\(search.text)")
            #expect(search.json["error"]?["code"]?.stringValue == "embedder_unavailable")
        }
    }
    /// A restart during an embeddings outage: the gateway starts on the dimension its cache
    /// recorded, serves exact repeats (which need no embedding) and answers the rest from the
    /// provider until the service is back.
    @Test("a gateway restarted while its remote embedder is down starts, serves exact hits and fails open")
    func restartWithEmbedderDown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        @Sendable func remote(_ base: String) -> @Sendable (inout DejaConfiguration) -> Void {
            { c in
                c.cache.store = dir.path("cache.sqlite")
                c.cache.indexFile = dir.path("cache.hnsw")
                c.embedder.kind = .remote
                // Patient: on a loaded machine the first start's probe of a live service may take
                // over a second; a refused connection (the second start) fails at once anyway.
                c.embedder.remote = RemoteEmbedderConfiguration(baseURL: base, model: "mock-embed-64", timeout: 15, maxRetries: 0)
            }
        }
        let embeddings = MockUpstream()
        let base = try await embeddings.withRunning { (port: Int) async throws -> String in
            let base = "http://127.0.0.1:\(port)/v1"
            try await H.run(inProcess: true, configure: remote(base)) { (h: H) async throws in
                #expect(try await h.chat("How do I reset my password?").cache == "miss")
                await h.settle()
                #expect(try await h.chat("How do I reset my password?").cache == "hit")
            }
            return base
        }
        // The embeddings service is gone now; its address refuses connections.
        let log = LogCapture()
        try await H.run(inProcess: true, configure: remote(base), logger: log.logger) { (h: H) async throws in
            #expect(log.messages.contains { $0.contains("the embeddings endpoint did not answer at start") }, "\(log.messages)")
            #expect(try await h.chat("How do I reset my password?").cache == "hit")
            let other = try await h.chat("What is the capital of France?")
            #expect(other.status == 200)
            #expect(other.assistantText != nil)
            // Every new prompt fails the same way while the service is down: one warning for all.
            #expect(try await h.chat("What is the capital of Spain?").status == 200)
            #expect(log.messages.filter { $0.contains("cache lookups failed") }.count == 1, "\(log.messages)")
        }
    }
}

import Embedding
