import MockProvider
import DejaSupport
import Embedding
import Foundation
import NIOHTTP1
import Gateway
import SemanticCache
import Testing

@Suite("Gateway lookup API, health and metrics")
struct CacheAPITests {
    typealias H = GatewayHarness

    @Test("the lookup API needs the admin key")
    func authorization() async throws {
        try await H.run(inProcess: true) { h in
            for headers in [[:], ["authorization": "Bearer wrong"], ["authorization": H.adminKey]] {
                let reply = try await h.request(.GET, "/v1/cache/stats", headers: headers, contentType: nil)
                #expect(reply.status == 401)
                #expect(reply.json["error"]?["type"]?.stringValue == "authentication_error")
            }
            #expect(try await h.request(.GET, "/v1/cache/stats", headers: h.admin, contentType: nil).status == 200)
        }
    }

    @Test("an inserted entry is served through the proxy, read, found by search, counted, deleted and purged")
    func entries() async throws {
        try await H.run(inProcess: true) { h in
            let inserted = try await h.post("/v1/cache/entries", [
                "prompt": "What are your opening hours?", "response": "We are open 9 to 5.", "model": "gpt-test",
                "system": "You are the shop assistant.",
            ], headers: h.admin)
            #expect(inserted.status == 201)
            let key = try #require(inserted.json["id"]?.stringValue)
            let namespace = try #require(inserted.json["namespace"]?.stringValue)

            // The proxy serves it to the matching chat request.
            let served = try await h.chat("What are your opening hours?", system: "You are the shop assistant.")
            #expect(served.cache == "hit")
            #expect(served.assistantText == "We are open 9 to 5.")
            #expect(try await h.chat("What are your opening hours?").cache == "miss", "another system prompt")

            let got = try await h.request(.GET, "/v1/cache/entries/\(key)", headers: h.admin, contentType: nil)
            #expect(got.json["prompt"]?.stringValue == "What are your opening hours?")
            #expect(got.json["response"]?["choices"]?.arrayValue?.count == 1)

            let found = try await h.post("/v1/cache/search", ["text": "opening hours", "k": 3, "namespace": .string(namespace)],
                                         headers: h.admin)
            #expect(found.json["data"]?.arrayValue?.first?["id"]?.stringValue == key)
            #expect(found.json["data"]?.arrayValue?.first?["response_preview"]?.stringValue == "We are open 9 to 5.")
            #expect(found.json["data"]?.arrayValue?.first?["similarity"]?.doubleValue ?? 0 > 0.5)

            let stats = try await h.request(.GET, "/v1/cache/stats", headers: h.admin, contentType: nil)
            #expect(stats.json["entries"]?.intValue == 2)
            #expect(stats.json["hits"]?.intValue == 1)
            #expect(stats.json["namespaces"]?.arrayValue?.isEmpty == false)
            // The busiest namespace only (the shop's, asked twice now), with the totals unchanged.
            let count = stats.json["namespace_count"]?.intValue ?? 0
            #expect(count >= 2 && stats.json["namespaces"]?.arrayValue?.count == count, "\(stats.text)")
            #expect(try await h.chat("What are your opening hours?", system: "You are the shop assistant.").cache == "hit")
            let busiest = try await h.request(.GET, "/v1/cache/stats?namespaces=1", headers: h.admin, contentType: nil)
            #expect(busiest.json["namespaces"]?.arrayValue?.count == 1)
            #expect(busiest.json["namespaces"]?.arrayValue?.first?["namespace"]?.stringValue == namespace)
            #expect(busiest.json["namespace_count"]?.intValue == count && busiest.json["hits"]?.intValue == 2)
            #expect(try await h.request(.GET, "/v1/cache/stats?namespaces=all", headers: h.admin, contentType: nil).status == 400)

            let deleted = try await h.request(.DELETE, "/v1/cache/entries/\(key)", headers: h.admin, contentType: nil)
            #expect(deleted.json["deleted"]?.boolValue == true)
            #expect(try await h.request(.DELETE, "/v1/cache/entries/\(key)", headers: h.admin, contentType: nil).status == 404)
            #expect(try await h.chat("What are your opening hours?", system: "You are the shop assistant.").cache == "miss")
            await h.settle()

            let purged = try await h.request(.DELETE, "/v1/cache?namespace=\(namespace)", headers: h.admin, contentType: nil)
            #expect(purged.json["purged"]?.intValue == 1)
        }
    }

    @Test("missing or nonsense fields are a 400 naming the field, not taken for no limit or failed on later")
    func wrongFields() async throws {
        try await H.run(inProcess: true) { h in
            #expect(try await h.request(.DELETE, "/v1/cache", headers: h.admin, contentType: nil).status == 400)
            #expect(try await h.post("/v1/cache/search", ["k": 3], headers: h.admin).status == 400)
            #expect(try await h.post("/v1/cache/search", ["vector": [1, 2], "k": 3], headers: h.admin).status == 400)
            #expect(try await h.post("/v1/cache/entries", ["prompt": "x"], headers: h.admin).status == 400)
            let threshold = try await h.post("/v1/cache/search", ["text": "x", "threshold": 2], headers: h.admin)
            #expect(threshold.status == 400 && threshold.json["error"]?["param"]?.stringValue == "threshold", "\(threshold.text)")
            #expect(try await h.post("/v1/cache/search", ["text": "x", "threshold": "high"], headers: h.admin).status == 400)
            let ttl = try await h.post(
                "/v1/cache/entries", ["prompt": "x", "response": "y", "model": "gpt-test", "ttl": -1], headers: h.admin)
            #expect(ttl.status == 400 && ttl.json["error"]?["param"]?.stringValue == "ttl", "\(ttl.text)")
        }
    }

    @Test("entries are listed newest first in pages, by namespace or label; purges take a label glob or everything")
    func listAndPurgeByLabel() async throws {
        try await H.run(inProcess: true) { h in
            func insert(_ prompt: String, model: String, tenant: String) async throws -> String {
                let reply = try await h.post(
                    "/v1/cache/entries", ["prompt": .string(prompt), "response": "ok", "model": .string(model), "tenant": .string(tenant)],
                    headers: h.admin)
                #expect(reply.status == 201, "\(reply.text)")
                return reply.json["id"]?.stringValue ?? ""
            }
            var ids: [String] = []
            for i in 0..<5 { ids.append(try await insert("Question \(i) about shipping", model: "gpt-4o", tenant: "acme")) }
            let mini = try await insert("A question for the small model", model: "gpt-4o-mini", tenant: "acme")
            let other = try await insert("Another tenant's question", model: "gpt-4o", tenant: "globex")

            func list(_ query: String) async throws -> JSONValue {
                let reply = try await h.request(.GET, "/v1/cache/entries\(query)", headers: h.admin, contentType: nil)
                #expect(reply.status == 200, "\(reply.text)")
                return reply.json
            }
            func listed(_ page: JSONValue) -> [String] { page["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [] }
            let all = try await list("")
            #expect(listed(all) == [other, mini] + ids.reversed())
            #expect(all["has_more"]?.boolValue == false)
            #expect(all["data"]?.arrayValue?.first?["prompt"]?.stringValue == "Another tenant's question")
            // Pages of two, following last_id, cover everything once.
            var seen: [String] = []
            var after = ""
            for _ in 0..<10 {
                let page = try await list("?limit=2" + (after.isEmpty ? "" : "&after=\(after)"))
                seen += listed(page)
                guard page["has_more"]?.boolValue == true, let last = page["last_id"]?.stringValue else { break }
                after = last
            }
            #expect(seen == listed(all))
            let acme = try await list("?label=\("acme/gpt-4o".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            #expect(listed(acme) == ids.reversed())
            let namespace = acme["data"]?.arrayValue?.first?["namespace"]?.stringValue ?? ""
            #expect(listed(try await list("?namespace=\(namespace)&limit=1")) == [ids[4]])
            for bad in ["?limit=0", "?limit=101", "?after=x", "?namespace=xyz"] {
                #expect(try await h.request(.GET, "/v1/cache/entries\(bad)", headers: h.admin, contentType: nil).status == 400, "\(bad)")
            }

            // Every gpt-4o namespace, of every tenant, and nothing else.
            let glob = "*/gpt-4o".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let purged = try await h.request(.DELETE, "/v1/cache?label=\(glob)", headers: h.admin, contentType: nil)
            #expect(purged.json["purged"]?.intValue == 6, "\(purged.text)")
            #expect(purged.json["namespaces"]?.intValue == 2)
            #expect(listed(try await list("")) == [mini])
            #expect(try await h.request(.DELETE, "/v1/cache?label=x&all=true", headers: h.admin, contentType: nil).status == 400)
            #expect(try await h.request(.DELETE, "/v1/cache?all=yes", headers: h.admin, contentType: nil).status == 400)
            let everything = try await h.request(.DELETE, "/v1/cache?all=true", headers: h.admin, contentType: nil)
            #expect(everything.json["purged"]?.intValue == 1)
            #expect(listed(try await list("")).isEmpty)
            #expect(h.gateway.cache.stats.entries == 0)
            #expect(try await h.request(.GET, "/v1/cache/entries", contentType: nil).status == 401)
        }
    }

    @Test("an entry larger than the whole cache may hold is refused with 400, and the cache keeps working")
    func entryTooLarge() async throws {
        try await H.run(inProcess: true, configure: {
            $0.cache.maxBytes = 65_536
            $0.server.maxBodyBytes = 200_000
        }) { h in
            let huge = try await h.post(
                "/v1/cache/entries", ["prompt": "x", "response": .string(String(repeating: "y", count: 70_000)), "model": "gpt-test"],
                headers: h.admin)
            #expect(huge.status == 400, "\(huge.text)")
            #expect(huge.json["error"]?["message"]?.stringValue?.contains("cache.max_bytes") == true, "\(huge.text)")
            let small = try await h.post("/v1/cache/entries", ["prompt": "x", "response": "y", "model": "gpt-test"], headers: h.admin)
            #expect(small.status == 201, "\(small.text)")
        }
    }

    @Test("an entry given as a whole chat completion is served as it was given, plain and streamed; a broken one is refused")
    func responseJSON() async throws {
        try await H.run(inProcess: true) { h in
            let completion: JSONValue = [
                "id": "chatcmpl-given", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-test",
                "choices": [["index": 0, "message": ["role": "assistant", "content": "Open 9 to 5."], "finish_reason": "stop"]],
                "usage": ["prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11],
            ]
            let stored = try await h.post("/v1/cache/entries", [
                "prompt": "What are your opening hours?", "model": "gpt-test", "response_json": completion,
            ], headers: h.admin)
            #expect(stored.status == 201, "\(stored.text)")
            #expect(stored.json["completion_tokens"] == 4)
            let plain = try await h.chat("What are your opening hours?")
            #expect(plain.headers.first(name: "x-deja-cache") == "hit")
            #expect(plain.json["id"] == "chatcmpl-given")
            #expect(plain.assistantText == "Open 9 to 5.")
            let streamed = try await h.chat("What are your opening hours?", stream: true)
            #expect(streamed.assistantText == "Open 9 to 5.")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 0)

            var unfinished = completion.objectValue!
            unfinished["choices"] = [["index": 0, "message": ["role": "assistant", "content": "Open"], "finish_reason": .null]]
            for broken in [JSONValue.object(unfinished), ["choices": [1, 2]], "Open 9 to 5.", ["object": "chat.completion", "choices": []]] {
                let refused = try await h.post("/v1/cache/entries", [
                    "prompt": "When do you close?", "model": "gpt-test", "response_json": broken,
                ], headers: h.admin)
                #expect(refused.status == 400 && refused.json["error"]?["param"] == "response_json", "\(refused.text)")
            }
            #expect(h.gateway.cache.stats.entries == 1)
        }
    }

    /// What `GET /v1/cache/entries/{key}` shows (a line of `deja cache export`) goes back in
    /// through `POST /v1/cache/entries`, into its own namespace, under a new key made here.
    @Test("an entry as GET shows it is restored by POST into its namespace; a wrong one is refused naming the field")
    func restoreEntry() async throws {
        try await H.run(inProcess: true) { h in
            let first = try await h.chat("How do I reset my password?", system: "You are the shop assistant.")
            #expect(first.cache == "miss")
            await h.settle()  // the answer is stored after it is sent
            let listed = try await h.request(.GET, "/v1/cache/entries", headers: h.admin, contentType: nil)
            let key = try #require(listed.json["data"]?.arrayValue?.first?["id"]?.stringValue)
            let shown = try await h.request(.GET, "/v1/cache/entries/\(key)", headers: h.admin, contentType: nil).json
            #expect(try await h.request(.DELETE, "/v1/cache/entries/\(key)", headers: h.admin, contentType: nil).status == 200)
            #expect(try await h.chat("How can I reset my password?", system: "You are the shop assistant.").cache == "miss")
            await h.settle()  // that miss's answer is stored in the background: before the purge, not after it
            _ = try await h.request(.DELETE, "/v1/cache?all=true", headers: h.admin, contentType: nil)

            let restored = try await h.post("/v1/cache/entries", shown, headers: h.admin)
            #expect(restored.status == 201, "\(restored.text)")
            #expect(restored.json["id"]?.stringValue != key, "a new key")
            for field in ["namespace", "label", "prompt", "model", "created_at", "expires_at", "prompt_tokens", "completion_tokens"] {
                #expect(restored.json[field] == shown[field], "\(field)")
            }
            let upstreamCalls = h.mock.requests(to: "/v1/chat/completions")
            let exact = try await h.chat("How do I reset my password?", system: "You are the shop assistant.")
            #expect(exact.cache == "hit" && exact.assistantText == first.assistantText)
            let similar = try await h.chat("How can I reset my password?", system: "You are the shop assistant.")
            #expect(similar.cache == "semantic-hit" && similar.assistantText == first.assistantText, "embedded anew")
            #expect(try await h.chat("How do I reset my password?").cache == "miss", "another system prompt, another namespace")
            #expect(h.mock.requests(to: "/v1/chat/completions") == upstreamCalls + 1)

            let wrong: [(String, JSONValue)] = [
                ("namespace", "not-an-id"), ("label", ""), ("model", 5), ("prompt", .null), ("created_at", "yesterday"),
                ("hits", -1), ("response", ["object": "chat.completion", "choices": []]), ("response", "Open 9 to 5."),
            ]
            for (field, value) in wrong {
                var body = shown.objectValue!
                body[field] = value
                let reply = try await h.post("/v1/cache/entries", .object(body), headers: h.admin)
                #expect(reply.status == 400 && reply.json["error"]?["param"]?.stringValue == field, "\(field): \(reply.text)")
            }
            var expired = shown.objectValue!
            expired["expires_at"] = 1_000
            let late = try await h.post("/v1/cache/entries", .object(expired), headers: h.admin)
            #expect(late.status == 400 && late.json["error"]?["code"]?.stringValue == "entry_expired", "\(late.text)")
            #expect(h.gateway.cache.stats.entries == 2, "the restored entry and the other system prompt's answer")

            // A ttl no whole number of seconds can hold as an expiry: shown, and restored, as a number.
            let forever = try await h.post("/v1/cache/entries", [
                "prompt": "Where are you?", "response": "Here.", "model": "gpt-test", "ttl": 1e300,
            ], headers: h.admin)
            #expect(forever.status == 201 && (forever.json["expires_at"]?.doubleValue ?? 0) > 1e299, "\(forever.text)")
            let foreverKey = try #require(forever.json["id"]?.stringValue)
            let foreverShown = try await h.request(.GET, "/v1/cache/entries/\(foreverKey)", headers: h.admin, contentType: nil)
            #expect(try await h.post("/v1/cache/entries", foreverShown.json, headers: h.admin).status == 201)
        }
    }

    /// A tenant or partition of the wrong type read as none would file an entry where every
    /// client without one finds it; a `k` or `namespace` ignored would widen a search.
    @Test("fields of the wrong type are refused with 400 naming them, not read as absent")
    func wrongTypes() async throws {
        try await H.run(inProcess: true) { h in
            let entry: [String: JSONValue] = ["prompt": "What are your opening hours?", "response": "9 to 5.", "model": "gpt-test"]
            // A partition the proxy's x-deja-namespace would refuse could never be reached through it.
            for (field, value) in [("tenant", 5), ("namespace", ["a"]), ("namespace", ""), ("namespace", "team a"),
                                   ("system", ["role": "system"]), ("response", 7)]
                as [(String, JSONValue)]
            {
                var body = entry
                body[field] = value
                for path in ["/v1/cache/entries", "/v1/cache/lookup"] where path == "/v1/cache/entries" || field != "response" {
                    let reply = try await h.post(path, .object(body), headers: h.admin)
                    #expect(reply.status == 400, "\(path) \(field): \(reply.text)")
                    #expect(reply.json["error"]?["param"]?.stringValue == field, "\(path) \(field): \(reply.text)")
                }
            }
            #expect(h.gateway.cache.stats.entries == 0)
            let search: [(JSONValue, String)] = [
                (["text": "hours", "k": 2.5], "k"), (["text": "hours", "k": "3"], "k"), (["text": 5], "text"),
                (["text": "hours", "namespace": 5], "namespace"), (["vector": [1, "x"]], "vector"),
            ]
            for (body, field) in search {
                let reply = try await h.post("/v1/cache/search", body, headers: h.admin)
                #expect(reply.status == 400, "\(body.jsonString): \(reply.text)")
                #expect(reply.json["error"]?["param"]?.stringValue == field, "\(body.jsonString): \(reply.text)")
            }
            // Null is absent, as in OpenAI's API.
            var nulls = entry
            nulls["tenant"] = .null
            nulls["system"] = .null
            #expect(try await h.post("/v1/cache/entries", .object(nulls), headers: h.admin).status == 201)
            #expect(try await h.post("/v1/cache/search", ["text": "hours", "k": 3, "namespace": .null], headers: h.admin).status == 200)
        }
    }

    /// A remote embedder is a paid call: the lookup and the insert that follows it, or a
    /// paraphrase asked again, must not pay for the same text twice.
    @Test("a lookup and the insert after it embed the prompt once (memo_entries), twice without the memo")
    func embedsOnce() async throws {
        for memo in [4096, 0] {
            try await H.run(inProcess: true, configure: { c in
                c.embedder.kind = .remote
                c.embedder.remote = RemoteEmbedderConfiguration(baseURL: c.providers["mock"]!.baseURL, model: "mock-embed-64")
                c.embedder.memoEntries = memo
            }) { h in
                let start = h.mock.requests(to: "/v1/embeddings")
                let body: JSONValue = ["model": "gpt-test", "prompt": "Do you ship orders to Canada?"]
                let lookup = try await h.post("/v1/cache/lookup", body, headers: h.admin)
                #expect(lookup.json["hit"]?.boolValue == false, "\(lookup.text)")
                #expect(h.mock.requests(to: "/v1/embeddings") == start + 1)
                var entry = body.objectValue!
                entry["response"] = "Yes, in 5 days."
                #expect(try await h.post("/v1/cache/entries", .object(entry), headers: h.admin).status == 201)
                #expect(h.mock.requests(to: "/v1/embeddings") == start + (memo > 0 ? 1 : 2), "memo_entries: \(memo)")
                // A text that is looked up again and again without being stored (as a paraphrase
                // that keeps hitting an earlier answer) is embedded once.
                let again: JSONValue = ["model": "gpt-test", "prompt": "Do you ship your orders to Canada please"]
                for _ in 0..<3 { #expect(try await h.post("/v1/cache/lookup", again, headers: h.admin).status == 200) }
                #expect(h.mock.requests(to: "/v1/embeddings") == start + (memo > 0 ? 2 : 5), "memo_entries: \(memo)")
            }
        }
    }

    /// The flow of an application that calls its model itself: look up, and on a miss store.
    @Test("lookup gives the proxy's decision: exact, similar, refused by the verifier, other namespace, missing")
    func lookup() async throws {
        try await H.run(inProcess: true) { h in
            func lookUp(_ prompt: String, _ extra: [String: JSONValue] = [:]) async throws -> JSONValue {
                var body: [String: JSONValue] = ["model": "gpt-test", "prompt": .string(prompt), "system": "You are the shop assistant."]
                for (k, v) in extra { body[k] = v }
                let reply = try await h.post("/v1/cache/lookup", .object(body), headers: h.admin)
                #expect(reply.status == 200, "\(reply.text)")
                return reply.json
            }
            let before = try await lookUp("Do you ship orders to Canada?")
            #expect(before["hit"]?.boolValue == false)
            #expect(before["best_similarity"] == .null)
            _ = try await h.post("/v1/cache/entries", [
                "prompt": "Do you ship orders to Canada?", "response": "Yes, in 5 days.", "model": "gpt-test",
                "system": "You are the shop assistant.",
            ], headers: h.admin)

            let exact = try await lookUp("Do you ship orders to Canada?")
            #expect(exact["hit"]?.boolValue == true)
            #expect(exact["kind"]?.stringValue == "exact")
            #expect(OpenAIWire.firstText(exact["response"] ?? .null) == "Yes, in 5 days.")
            #expect(exact["entry"]?["prompt"]?.stringValue == "Do you ship orders to Canada?")
            #expect(exact["entry"]?["response"] == nil, "the answer once, under response")
            let similar = try await lookUp("Do you ship your orders to Canada")
            #expect(similar["kind"]?.stringValue == "semantic")
            #expect((similar["similarity"]?.doubleValue ?? 0) >= (similar["threshold"]?.doubleValue ?? 1))
            let strict = try await lookUp("Do you ship your orders to Canada", ["threshold": 0.9999])
            #expect(strict["hit"]?.boolValue == false, "a stricter threshold for this lookup")
            _ = try await h.post("/v1/cache/entries", [
                "prompt": "How do I turn on dark mode?", "response": "In Settings.",
                "model": "gpt-test", "system": "You are the shop assistant.",
            ], headers: h.admin)
            let guarded = try await lookUp("How do I turn off dark mode?")
            #expect(guarded["hit"]?.boolValue == false)
            #expect((guarded["best_similarity"]?.doubleValue ?? 0) >= 0.6, "similar, yet refused: \(guarded)")
            #expect((guarded["best_probability"]?.doubleValue ?? 1) < (guarded["threshold"]?.doubleValue ?? 0), "\(guarded)")
            #expect(guarded["rejection"]?.stringValue?.contains("opposite words") == true, "the verifier says why: \(guarded)")
            let otherSystem = try await lookUp("Do you ship orders to Canada?", ["system": "You are a pirate."])
            #expect(otherSystem["hit"]?.boolValue == false)
            #expect(otherSystem["namespace"] != exact["namespace"])
            // The proxy agrees.
            #expect(try await h.chat("Do you ship orders to Canada?", system: "You are the shop assistant.").cache == "hit")

            #expect(try await h.post("/v1/cache/lookup", ["prompt": "hi"], headers: h.admin).status == 400)
            #expect(try await h.post("/v1/cache/lookup", ["model": "gpt-test", "prompt": "hi", "threshold": 2], headers: h.admin).status == 400)
            #expect(try await h.post("/v1/cache/lookup", ["model": "gpt-test", "prompt": "hi"]).status == 401)
            let stats = try await h.request(.GET, "/v1/cache/stats", headers: h.admin, contentType: nil)
            #expect(stats.json["hits"]?.intValue == 2, "the exact lookup and the proxy's hit")
            #expect(stats.json["semantic_hits"]?.intValue == 1)
        }
    }

    @Test("healthz, readyz and Prometheus metrics")
    func operations() async throws {
        try await H.run(inProcess: true) { h in
            #expect(try await h.request(.GET, "/healthz", contentType: nil).json["status"]?.stringValue == "ok")
            #expect(try await h.request(.GET, "/readyz", contentType: nil).json["status"]?.stringValue == "ready")
            // Each lookup result is a series from the start, at 0.
            let fresh = try await h.request(.GET, "/metrics", contentType: nil).text
            for result in ["hit", "semantic_hit", "miss", "bypass", "error"] {
                #expect(fresh.contains("deja_cache_lookups_total{result=\"\(result)\"} 0"), "\(fresh)")
            }
            _ = try await h.chat("How do I reset my password?")
            await h.settle()
            _ = try await h.chat("How do I reset my password?")
            _ = try await h.chat("bad", model: "mock-error-500")
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_requests_total{route="/v1/chat/completions",status="200"} 2"#))
            #expect(metrics.contains(#"deja_cache_lookups_total{result="hit"} 1"#))
            #expect(metrics.contains(#"deja_cache_lookups_total{result="miss"} 2"#))
            // The mock counts 6 prompt and 13 completion tokens for this question.
            #expect(metrics.contains(#"deja_saved_tokens_total{kind="prompt"} 6"#), "\(metrics)")
            #expect(metrics.contains(#"deja_saved_tokens_total{kind="completion"} 13"#))
            #expect(metrics.contains(#"deja_upstream_errors_total{provider="mock",kind="status"} 1"#))
            #expect(metrics.contains("deja_request_duration_seconds_bucket"))
            #expect(metrics.contains("deja_upstream_duration_seconds_bucket"))
        }
    }

    @Test("metrics of the similarity of semantic hits, the best similarity of misses, and the refusals")
    func similarityMetrics() async throws {
        try await H.run(inProcess: true) { h in
            _ = try await h.chat("How do I reset my password?")
            await h.settle()
            #expect(try await h.chat("How can I reset my password?").cache == "semantic-hit")
            #expect(try await h.chat("How do I not reset my password?").cache == "miss")
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_lookup_similarity_count{result="hit"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"deja_lookup_similarity_count{result="miss"} 1"#), "the first miss saw no candidate")
            #expect(metrics.contains(#"deja_lookup_similarity_bucket{result="hit",le="1.0"} 1"#))
            #expect(metrics.contains(#"deja_guard_rejections_total{reason="unlikely"} 1"#), "\(metrics)")
        }
    }

    /// A stream's body is written after its handler returns, so its line waits for the end.
    @Test("a streamed response is logged when it ends: its first byte, its whole time, its upstream time")
    func streamLogLine() async throws {
        let capture = LogCapture()
        try await H.run(inProcess: true, logger: capture.logger) { h in
            _ = try await h.chat("Log this stream", stream: true)
            _ = try await h.chat("Log this answer")
        }
        let lines = capture.messages.filter { $0.hasPrefix("request ") }
        let streamed = lines.filter { $0.contains("first_byte_ms=") }
        #expect(streamed.count == 1, "only the stream has a first byte apart from its end: \(lines)")
        #expect(streamed.first?.contains("cache=miss") == true)
        #expect(streamed.first?.contains("upstream_ms=") == true, "known only once the stream has ended")
    }
}
