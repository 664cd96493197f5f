import DejaSupport
import Foundation
import Gateway
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
}
