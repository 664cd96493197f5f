import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// Hits that learn: feedback on served answers, verification against the provider, shadow mode.
@Suite("Gateway feedback, verification and shadow mode")
struct TrustTests {
    typealias H = GatewayHarness

    /// Without a provider key each client's key is its tenant (`ProviderConfiguration` without
    /// `api_key_env`): two clients, two tenants.
    static let alice = ["authorization": "Bearer sk-alice"]
    static let bob = ["authorization": "Bearer sk-bob"]

    @Test("x-deja-feedback on a client's next request raises the entry's threshold; another tenant's verdict is ignored")
    func feedbackHeader() async throws {
        try await H.run(inProcess: true) { h in
            #expect(try await h.chat("How do I reset my password?", headers: Self.alice).cache == "miss")
            await h.settle()
            let served = try await h.chat("How can I reset my password?", headers: Self.alice.merging(["x-request-id": "req-a1"]) { $1 })
            #expect(served.cache == "semantic-hit")
            let entry = try #require(served.headers.first(name: "x-deja-entry").flatMap(UInt64.init))
            // Bob names Alice's request: nothing changes.
            _ = try await h.chat("What is the capital of Peru?", headers: Self.bob.merging(["x-deja-feedback": "req-a1=wrong"]) { $1 })
            await h.settle()
            #expect(try await h.gateway.cache.store.summaries().first { $0.key == entry }?.trust.wrongHits == 0)
            #expect(try await h.chat("How can I reset my password?", headers: Self.alice).cache == "semantic-hit")
            // Alice's own verdict: the entry no longer answers that prompt by similarity.
            _ = try await h.chat("What is the capital of Chile?", headers: Self.alice.merging(["x-deja-feedback": "req-a1=wrong"]) { $1 })
            await h.settle()
            let trust = try await h.gateway.cache.store.summaries().first { $0.key == entry }?.trust
            #expect(trust?.wrongHits == 1 && trust?.minProbability != nil, "\(String(describing: trust))")
            #expect(try await h.chat("How can I reset my password?", headers: Self.alice).cache == "miss")
            #expect(try await h.chat("How do I reset my password?", headers: Self.alice).cache == "hit", "exact repeats still hit")
            let bad = try await h.chat("hi", headers: ["x-deja-feedback": "no-verdict"])
            #expect(bad.status == 400 && bad.json["error"]?["param"]?.stringValue == "x-deja-feedback")
        }
    }

    @Test("POST /v1/cache/feedback judges a served request's hit, or an entry; unknown ones are a 404; the pairs log gets the verdict")
    func feedbackRoute() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pairsLog = dir.path("pairs.jsonl")
        try await H.run(inProcess: true, configure: {
            $0.cache.retireAfter = 2
            $0.cache.pairsLog.file = pairsLog
        }) { h in
            _ = try await h.chat("How do I reset my password?")
            await h.settle()
            let served = try await h.chat("How can I reset my password?", headers: ["x-request-id": "req-1"])
            #expect(served.cache == "semantic-hit")
            let entry = try #require(served.headers.first(name: "x-deja-entry"))
            let first = try await h.post("/v1/cache/feedback", ["request_id": "req-1", "correct": false], headers: h.admin)
            #expect(first.status == 200, "\(first.text)")
            #expect(first.json["entry"]?.stringValue == entry && first.json["wrong_hits"]?.intValue == 1)
            #expect(first.json["retired"]?.boolValue == false)
            // With the pairs log on, the wrong hit is written there labelled, ready for --train.
            var labelled: JSONValue?
            for _ in 0..<100 where labelled == nil {
                let lines = ((try? String(contentsOfFile: pairsLog, encoding: .utf8)) ?? "").split(separator: "\n")
                labelled = lines.compactMap { try? JSONValue.parse(Data($0.utf8)) }.first { $0["judged_by"]?.stringValue == "feedback" }
                if labelled == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(labelled?["same"]?.boolValue == false && labelled?["b"]?.stringValue == "How can I reset my password?",
                    "\(String(describing: labelled))")
            #expect(labelled?["a"]?.stringValue == "How do I reset my password?")
            let second = try await h.post("/v1/cache/feedback", ["entry": .string(entry), "similarity": 1, "correct": false], headers: h.admin)
            #expect(second.json["retired"]?.boolValue == true, "\(second.text)")
            #expect(try await h.chat("How do I reset my password?").cache == "miss", "a retired entry is not served")
            #expect(try await h.post("/v1/cache/feedback", ["request_id": "req-none", "correct": true], headers: h.admin).status == 404)
            #expect(try await h.post("/v1/cache/feedback", ["request_id": "req-1"], headers: h.admin).status == 400)
            #expect(try await h.post("/v1/cache/feedback", ["request_id": "req-1", "correct": true]).status == 401)
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_feedback_total{verdict="wrong"} 2"#), "\(metrics)")
            #expect(metrics.contains("deja_entries_retired_total 1"))
        }
    }

    /// With `cache.target_error_rate`, a would-be hit on an unproven entry below the threshold
    /// is forwarded; the answers agree (the mock answers a paraphrase alike), so the entry is
    /// found right, and counted.
    @Test("a would-be hit chosen for verification is forwarded, and the fresh answer judges the entry")
    func verification() async throws {
        try await H.run(inProcess: true, configure: { $0.cache.targetErrorRate = 0.02; $0.cache.threshold = 0.999 }) { h in
            _ = try await h.chat("How do I reset my password?")
            await h.settle()
            let calls = h.mock.requests(to: "/v1/chat/completions")
            let verified = try await h.chat("How can I reset my password?")
            #expect(verified.cache == "verify", "under the threshold, unproven: verified")
            #expect(verified.assistantText?.contains("How can I reset my password?") == true, "the provider's own answer")
            #expect(h.mock.requests(to: "/v1/chat/completions") == calls + 1)
            await h.settle()
            let stats = h.gateway.cache.stats
            #expect(stats.verdicts.verificationsAgreed + stats.verdicts.verificationsDisagreed == 1)
            #expect(stats.entries == 1 + stats.verdicts.verificationsDisagreed, "a fresh answer that agreed is not stored twice")
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains("deja_verifications_total"), "\(metrics)")
            // An exact repeat is never verified.
            #expect(try await h.chat("How do I reset my password?").cache == "hit")
        }
    }

    @Test("shadow mode serves nothing, records every would-be hit with its verdict, and still learns answers")
    func shadowMode() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = dir.path("shadow.jsonl")
        try await H.run(inProcess: true, configure: { $0.cache.mode = .shadow; $0.cache.shadowLog = log }) { h in
            #expect(try await h.chat("How do I reset my password?").cache == "shadow")
            await h.settle()
            for prompt in ["How do I reset my password?", "How can I reset my password?", "What is the capital of Peru?"] {
                let reply = try await h.chat(prompt)
                #expect(reply.cache == "shadow", "\(prompt): \(reply.cache ?? "-")")
                #expect(reply.assistantText?.contains(prompt) == true, "the provider answered")
            }
            await h.settle()
            #expect(h.mock.requests(to: "/v1/chat/completions") == 4, "every request reached the provider")
            let records = try TextFile.read(log).split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
            #expect(records.count == 4, "\(records)")
            #expect(records.map { $0["kind"]?.stringValue } == ["none", "exact", "semantic", "candidate"])
            #expect(records[1]["agree"]?.boolValue == true, "the provider repeats itself for the same prompt")
            #expect(records[2]["probability"]?.doubleValue != nil && records[2]["agree"] != nil)
            #expect(!(try TextFile.read(log)).contains("password"), "no prompt or answer text in the log")
            #expect(h.gateway.cache.stats.hits == 1 && h.gateway.cache.stats.semanticHits == 1, "lookups are counted")
            // Switching a route to live serves from what shadow mode learnt.
        }
        // deja tune --shadow reads the log.
        let report = try DejaBinary.run(["tune", log, "--shadow"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("shadowed requests: 4"), "\(report.stdout)")
        #expect(report.stdout.contains("hit rate  precision"))
    }
}
