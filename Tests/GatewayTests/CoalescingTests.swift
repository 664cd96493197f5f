import MockProvider
import Foundation
import Gateway
import NIOHTTP1
import SemanticCache
import Testing

private typealias H = GatewayHarness

/// Identical requests that arrive while the first is still at the provider.
@Suite("Gateway coalescing of identical misses")
struct CoalescingTests {
    // Every test here is `H.patient`: a leader that timed out would send its followers upstream
    // and look like no coalescing.

    /// Sends `count` requests at once and returns their replies.
    private func together(
        _ count: Int, _ send: @escaping @Sendable (Int) async throws -> H.Reply
    ) async throws -> [H.Reply] {
        try await withThrowingTaskGroup(of: H.Reply.self) { group in
            for i in 0..<count { group.addTask { try await send(i) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("identical misses in flight at once cost one upstream call; the rest are answered from its stored answer")
    func identical() async throws {
        try await H.run(inProcess: true, configure: H.patient, upstreamLatency: .milliseconds(600)) { h in
            let replies = try await together(8) { _ in try await h.chat("What is the tallest mountain in Africa?") }
            #expect(replies.map(\.status) == Array(repeating: 200, count: 8))
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)
            #expect(replies.filter { $0.cache == "miss" }.count == 1)
            #expect(replies.filter { $0.cache == "hit" }.count == 7)
            #expect(Set(replies.compactMap(\.assistantText)).count == 1)
            let entry = replies.first { $0.cache == "hit" }?.headers.first(name: "x-deja-entry")
            #expect(entry != nil)
            // The followers count as hits, not as misses and hits both.
            let stats = h.gateway.cache.stats
            #expect(stats.misses == 1)
            #expect(stats.hits == 7)
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains("deja_coalesced_requests_total 7"), "\(metrics)")
        }
    }

    @Test("when the leading call fails, the followers call the provider themselves and nothing wrong is served")
    func leaderFails() async throws {
        // mock-flaky-1 answers its first request with a 503 and later ones normally.
        try await H.run(inProcess: true, configure: H.patient, upstreamLatency: .milliseconds(600)) { h in
            let replies = try await together(4) { _ in try await h.chat("Will this work the first time?", model: "mock-flaky-1") }
            #expect(replies.map(\.status).sorted() == [200, 200, 200, 502])
            #expect(h.mock.requests(to: "/v1/chat/completions") == 4)
            for reply in replies where reply.status == 200 {
                #expect(reply.assistantText?.contains("Will this work the first time?") == true)
            }
        }
    }

    @Test("streams are not held back, other tenants do not share a flight, and coalesce_misses: false turns it off")
    func exceptions() async throws {
        try await H.run(inProcess: true, configure: H.patient, upstreamLatency: .milliseconds(600)) { h in
            let streams = try await together(3) { _ in try await h.chat("Name three rivers in Europe", stream: true) }
            #expect(streams.map(\.status) == [200, 200, 200])
            #expect(h.mock.requests(to: "/v1/chat/completions") == 3, "a streamed request waits for no one")

            let tenants = try await together(2) { i in
                try await h.chat("What is our refund policy?", headers: ["authorization": "Bearer sk-tenant-\(i)"])
            }
            #expect(tenants.map(\.cache) == ["miss", "miss"])
            #expect(h.mock.requests(to: "/v1/chat/completions") == 5)
        }
        try await H.run(inProcess: true, configure: { H.patient(&$0); $0.server.coalesceMisses = false }, upstreamLatency: .milliseconds(600)) { h in
            let replies = try await together(4) { _ in try await h.chat("What is the tallest mountain in Africa?") }
            #expect(replies.map(\.cache) == ["miss", "miss", "miss", "miss"])
            #expect(h.mock.requests(to: "/v1/chat/completions") == 4)
        }
    }
}
