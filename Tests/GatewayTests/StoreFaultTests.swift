import DejaSupport
import Foundation
import Gateway
import GRDB
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// The cache store failing under a running server, made real: a trigger in the SQLite file
/// refuses writes with `SQLITE_FULL`'s own message, as a full disk does, and is then dropped.
@Suite("Gateway with a failing cache store")
struct StoreFaultTests {
    typealias H = GatewayHarness

    /// Polls `/metrics` until it holds `line` (the upkeep runs once a second).
    static func waitForMetric(_ h: H, _ line: String, seconds: Double = 5) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await h.request(.GET, "/metrics", contentType: nil).text.contains(line) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("a store that refuses writes: the lookup API answers 503 without the file's path, the proxy answers uncached, both recover")
    func writesRefused() async throws {
        let log = LogCapture()
        try await H.run(inProcess: true, logger: log.logger) { h in
            let path = h.gateway.configuration.cache.store
            try SQLiteFault.refuseInserts(into: "entry", in: path)
            let insert: JSONValue = ["model": "gpt-test", "prompt": "What is our refund policy?", "response": "30 days."]
            let refused = try await h.post("/v1/cache/entries", insert, headers: h.admin)
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.json["error"]?["code"]?.stringValue == "cache_store_unavailable")
            #expect(refused.json["error"]?["type"]?.stringValue == "server_error")
            let message = refused.json["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("inserting an entry: database or disk is full"), "\(message)")
            #expect(!message.contains(path) && !message.contains(".sqlite"), "the store's path stays in the log: \(message)")
            #expect(log.messages.contains { $0.contains("the cache failed a request") })

            // The proxy still answers, from the provider, and does not pretend to have stored it.
            let first = try await h.chat("How do I reset my password?")
            #expect(first.status == 200 && first.cache == "miss")
            await h.settle()
            #expect(try await h.chat("How do I reset my password?").cache == "miss")
            await h.settle()
            #expect(h.gateway.cache.stats.entries == 0)
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_cache_store_failures_total{during="request"} 1"#))
            #expect(metrics.contains(#"deja_cache_store_failures_total{during="store_answer"} 2"#))
            // Every miss fails the same way until the store recovers: one warning, not one per miss.
            #expect(log.messages.filter { $0.contains("caching answers failed") }.count == 1, "\(log.messages)")

            try SQLiteFault.acceptInserts(into: "entry", in: path)
            #expect(try await h.post("/v1/cache/entries", insert, headers: h.admin).status == 201)
            #expect(try await h.chat("How do I reset my password?").cache == "miss")
            await h.settle()
            #expect(try await h.chat("How do I reset my password?").cache == "hit")
            #expect(log.messages.contains { $0.contains("caching answers works again after 2 failed attempts") }, "\(log.messages)")
        }
    }

    /// A full disk fails the upkeep's counter writes every second: one warning, not one a second,
    /// the metric counting, and the counters written once the store takes writes again.
    @Test("an upkeep that keeps failing warns once, is counted, and loses no counters")
    func upkeepFailing() async throws {
        let log = LogCapture()
        try await H.run(inProcess: true, logger: log.logger) { h in
            let path = h.gateway.configuration.cache.store
            #expect(try await h.chat("What is the capital of France?").cache == "miss")
            await h.settle()
            try SQLiteFault.refuseInserts(into: "namespace_counter", in: path)
            #expect(try await h.chat("What is the capital of France?").cache == "hit")
            #expect(try await Self.waitForMetric(h, #"deja_cache_store_failures_total{during="upkeep"} 2"#))
            #expect(log.messages.filter { $0.contains("cache upkeep failed") }.count == 1, "\(log.messages)")
            try SQLiteFault.acceptInserts(into: "namespace_counter", in: path)
            let deadline = ContinuousClock.now + .seconds(5)
            while !log.messages.contains(where: { $0.contains("cache upkeep works again") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(log.messages.contains { $0.contains("cache upkeep works again after") })
            // The hit counted while the store refused it reached the file once it took writes.
            let onDisk = try await DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT sum(hits) FROM namespace_counter") }
            #expect(onDisk == 1)
            let stats = try await h.request(.GET, "/v1/cache/stats", headers: h.admin, contentType: nil).json
            #expect(stats["hits"]?.intValue == 1)
            #expect(stats["misses"]?.intValue == 1)
        }
    }
}
