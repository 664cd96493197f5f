import DejaSupport
import Foundation
import NIOHTTP1
import SemanticCache
import TestSupport
import Testing
import VectorIndex

private typealias H = GatewayHarness

/// Bodies that are valid JSON but of shapes no one wrote a test for: each route's usual body with
/// random parts replaced, removed or added. A handler that trusts a field's type or presence
/// would answer 500 or bring the server down; it must answer in the OpenAI error shape instead.
@Suite("Requests of random shapes")
struct RequestFuzzTests {
    /// A route and a body it accepts.
    struct Route: Sendable {
        var path: String
        var body: JSONValue
        var admin = false
    }

    static let routes: [Route] = [
        Route(path: "/v1/chat/completions", body: [
            "model": "gpt-test", "temperature": 0.2, "max_tokens": 50,
            "messages": [
                ["role": "system", "content": "You are terse."],
                ["role": "user", "content": [["type": "text", "text": "What is a mutex?"]]],
            ],
        ]),
        Route(path: "/v1/chat/completions", body: [
            "model": "gpt-test", "stream": true, "stream_options": ["include_usage": true],
            "messages": [["role": "user", "content": "How do I reset my password?"]],
        ]),
        Route(path: "/v1/completions", body: ["model": "gpt-test", "prompt": "Say hello", "max_tokens": 5]),
        Route(path: "/v1/responses", body: ["model": "gpt-test", "input": "Say hello", "instructions": "Be brief."]),
        Route(path: "/v1/embeddings", body: ["model": "deja-embed", "input": ["one text", "another text"]]),
        Route(path: "/v1/embeddings", body: ["model": "mock-embed", "input": "one text"]),
        Route(path: "/v1/cache/search", body: ["text": "reset my password", "k": 3, "threshold": 0.5], admin: true),
        Route(path: "/v1/cache/lookup", body: ["model": "gpt-test", "prompt": "Say hello", "system": "Be brief."], admin: true),
        Route(path: "/v1/cache/entries", body: [
            "prompt": "What are your opening hours?", "response": "9 to 5.", "model": "gpt-test", "ttl": 60,
        ], admin: true),
    ]

    @Test("every route answers random bodies with a success or a 4xx in the OpenAI error shape, and keeps serving")
    func randomBodies() async throws {
        try await H.run(inProcess: true) { h in
            var rng = SplitMix64(seed: 2026)
            var refused = 0
            for _ in 0..<1_200 {
                let route = Self.routes.randomElement(using: &rng)!
                var body = route.body
                for _ in 0..<Int.random(in: 1...3, using: &rng) { Self.mutate(&body, &rng) }
                let reply = try await h.post(route.path, body, headers: route.admin ? h.admin : [:])
                let shown = "\(route.path) \(body.jsonString) → \(reply.status) \(reply.text.prefix(300))"
                switch reply.status {
                case 200, 201:
                    let isStream = reply.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true
                    if !isStream {
                        #expect(reply.json != .null, "\(shown)")
                    } else if route.path == "/v1/responses" {  // ends with its final event, not [DONE]
                        let last = reply.events.last.flatMap { try? JSONValue.parse($0) }
                        #expect(last?["type"]?.stringValue == "response.completed", "\(shown)")
                    } else {
                        #expect(reply.events.last == "[DONE]", "\(shown)")
                    }
                case 400..<500:
                    refused += 1
                    #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false, "\(shown)")
                    #expect(reply.json["error"]?["type"]?.stringValue != nil, "\(shown)")
                default:
                    Issue.record("\(shown)")
                }
            }
            // Both kinds of answer were exercised, and the server is still there.
            #expect(refused > 200 && refused < 1_100)
            #expect(try await h.chat("Is the server still answering?").status == 200)
        }
    }

    /// One random change somewhere in `value`: a part replaced by a random value, removed, or a
    /// random member added.
    static func mutate(_ value: inout JSONValue, _ rng: inout SplitMix64) {
        var paths: [[PathStep]] = []
        collect(value, at: [], into: &paths)
        let path = paths.randomElement(using: &rng)!
        let operation = Int.random(in: 0..<3, using: &rng)
        update(&value, at: path[...]) { part in
            switch operation {
            case 0: part = RandomJSON.value(&rng, maxDepth: 2)
            case 1 where !path.isEmpty: part = nil
            default:
                if case .object(var members) = part {
                    members[["model", "messages", "stream", "role", "content", "n", RandomJSON.string(&rng)]
                        .randomElement(using: &rng)!] = RandomJSON.value(&rng, maxDepth: 2)
                    part = .object(members)
                } else if case .array(var items) = part {
                    items.append(RandomJSON.value(&rng, maxDepth: 2))
                    part = .array(items)
                } else {
                    part = RandomJSON.value(&rng, maxDepth: 2)
                }
            }
        }
    }

    enum PathStep {
        case key(String)
        case index(Int)
    }

    static func collect(_ value: JSONValue, at path: [PathStep], into paths: inout [[PathStep]]) {
        paths.append(path)
        switch value {
        case .object(let members):
            for (k, v) in members { collect(v, at: path + [.key(k)], into: &paths) }
        case .array(let items):
            for (i, v) in items.enumerated() { collect(v, at: path + [.index(i)], into: &paths) }
        default: break
        }
    }

    /// Applies `change` to the part at `path`; setting it to `nil` removes it.
    static func update(_ value: inout JSONValue, at path: ArraySlice<PathStep>, _ change: (inout JSONValue?) -> Void) {
        guard let step = path.first else {
            var part: JSONValue? = value
            change(&part)
            value = part ?? .null
            return
        }
        switch (step, value) {
        case (.key(let k), .object(var members)):
            if path.count == 1 {
                var part = members[k]
                change(&part)
                members[k] = part
            } else if var child = members[k] {
                update(&child, at: path.dropFirst(), change)
                members[k] = child
            }
            value = .object(members)
        case (.index(let i), .array(var items)):
            if path.count == 1 {
                var part: JSONValue? = items[i]
                change(&part)
                if let part { items[i] = part } else { items.remove(at: i) }
            } else {
                update(&items[i], at: path.dropFirst(), change)
            }
            value = .array(items)
        default: break
        }
    }
}
