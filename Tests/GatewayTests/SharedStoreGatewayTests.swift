import DejaSupport
import Foundation
@testable import Gateway
import MockProvider
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// Two gateways on one PostgreSQL store, over HTTP: what a user of `make run-shared` sees.
@Suite("Two gateways, one PostgreSQL cache")
struct SharedStoreGatewayTests {
    typealias H = GatewayHarness

    @Test("a miss answered by one gateway is a hit on the other; a purge on one empties both")
    func twoGateways() async throws {
        try await PostgresServer.with { server in
            let url = server.url
            try await H.run(configure: { $0.cache.store = url }) { a in
                try await H.run(configure: { $0.cache.store = url }) { b in
                    let first = try await a.chat("How do I reset my password?")
                    #expect(first.status == 200 && first.headers["x-deja-cache"].first == "miss")
                    await a.settle()
                    // B learns of the entry through PostgreSQL's notification: asked through the
                    // lookup API (which never calls a provider) until it has it.
                    var known = false
                    for _ in 0..<1_000 where !known {
                        let lookup = try await b.post("/v1/cache/lookup", ["prompt": "How do I reset my password?", "model": "gpt-test"], headers: b.admin)
                        known = lookup.json["hit"]?.boolValue == true
                        if !known { try await Task.sleep(for: .milliseconds(10)) }
                    }
                    #expect(known, "the other gateway never saw the entry")
                    #expect(try await b.chat("How do I reset my password?").headers["x-deja-cache"].first == "hit")
                    #expect(b.mock.requests(model: "gpt-test") == 0)  // b never asked the provider
                    #expect(try await b.chat("How can I reset my password?").headers["x-deja-cache"].first == "semantic-hit")

                    let purged = try await b.request(.DELETE, "/v1/cache?all=true", headers: b.admin).json["purged"]?.intValue
                    #expect(purged == 1)
                    var entries: Int?
                    for _ in 0..<500 {
                        entries = try await a.request(.GET, "/v1/cache/stats", headers: a.admin).json["entries"]?.intValue
                        if entries == 0 { break }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    #expect(entries == 0)
                }
            }
        }
    }

    @Test("PostgreSQL restarted under load: every request is answered, failures are counted, both gateways recover without restart")
    func restartUnderLoad() async throws {
        try await PostgresServer.with { server in
            let url = server.url
            let configure: @Sendable (inout DejaConfiguration) -> Void = { c in
                c.cache.store = url
                c.governance.store = url
                c.governance.reloadInterval = 0.1
                c.server.auth = .keys
            }
            try await H.run(configure: configure) { a in
                try await H.run(configure: configure) { b in
                    // A limited key, so that its leases on the shared bucket are exchanged throughout.
                    let made = try await a.post("/v1/admin/keys", ["tenant": "acme", "rpm": 100_000], headers: a.admin)
                    let secret = made.json["secret"]!.stringValue!, keyID = made.json["id"]!.stringValue!
                    for _ in 0..<300 where b.governance.keyCount < 1 { try await Task.sleep(for: .milliseconds(10)) }
                    let auth = ["authorization": "Bearer \(secret)"]
                    #expect(try await a.chat("A question asked before the outage", headers: auth).status == 200)

                    let phase = LockedValue(0)  // 0 before, 1 while PostgreSQL is down, 2 after
                    let statuses = LockedValue([Int: Int]())
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for worker in 0..<4 {
                            group.addTask {
                                var n = 0
                                while phase.value < 3 {
                                    let h = (worker + n) % 2 == 0 ? a : b
                                    // Half repeat an answer both have, half are new prompts (misses).
                                    let prompt = n % 2 == 0 ? "A question asked before the outage" : "Load \(worker) \(n)"
                                    let status = try await h.chat(prompt, headers: auth).status
                                    statuses.withLock { $0[status, default: 0] += 1 }
                                    n += 1
                                }
                            }
                        }
                        group.addTask {
                            try await Task.sleep(for: .milliseconds(500))
                            await server.stop()
                            phase.withLock { $0 = 1 }
                            // Longer than a store operation may wait (5 s): writes then fail rather than wait.
                            try await Task.sleep(for: .seconds(6))
                            try await server.restart()
                            phase.withLock { $0 = 2 }
                            try await Task.sleep(for: .seconds(1))
                            phase.withLock { $0 = 3 }
                        }
                        try await group.waitForAll()
                    }
                    let seen = statuses.value
                    #expect(seen.keys.sorted() == [200], "every request answered: \(seen)")
                    #expect(seen[200, default: 0] > 20, "\(seen)")
                    let metrics = try await a.request(.GET, "/metrics", contentType: nil).text
                    let failures = metrics.split(separator: "\n").filter { $0.hasPrefix("deja_cache_store_failures_total") }
                        .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
                    #expect(failures > 0, "the outage was counted")

                    // Recovered without a restart: a miss on A is stored, followed by B, and a hit there.
                    var fresh = try await a.chat("A question after the outage", headers: auth)
                    for _ in 0..<100 where fresh.headers["x-deja-cache"].first != "miss" {
                        try await Task.sleep(for: .milliseconds(100))
                        fresh = try await a.chat("A question after the outage", headers: auth)
                    }
                    await a.settle()
                    var known = false
                    var last = fresh
                    for _ in 0..<1_000 where !known {
                        last = try await b.chat("A question after the outage", headers: auth)
                        known = last.headers["x-deja-cache"].first == "hit"
                        if !known { try await Task.sleep(for: .milliseconds(10)) }
                    }
                    let bMetrics = try await b.request(.GET, "/metrics", contentType: nil).text.split(separator: "\n")
                        .filter { $0.hasPrefix("deja_cache_store_failures_total") }
                    #expect(known, "B never got the entry A stored after the outage: \(last.status) \(last.headers["x-deja-cache"]) \(last.text) \(fresh.status) \(bMetrics) \(b.governance.quotas.holder("k:" + keyID).map { "\($0)" } ?? "-")")
                }
            }
        }
    }
}
