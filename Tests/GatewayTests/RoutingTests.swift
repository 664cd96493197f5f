import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import Testing
import TestSupport

/// Deployments, fallbacks and circuit breakers, against the mock upstream failing on command
/// (its model names: `mock-error-500`, `mock-flaky-N`, `mock-error-context`, ...).
@Suite("Routing")
struct RoutingTests {
    typealias H = GatewayHarness

    static func route(_ c: inout DejaConfiguration, _ name: String, _ deployments: [DeploymentConfiguration], fallbacks: [String] = [],
                      cache: Bool = false, _ change: (inout ModelRoute) -> Void = { _ in }) {
        var route = ModelRoute(provider: "mock", cache: cache, deployments: deployments, fallbacks: fallbacks)
        change(&route)
        c.models[name] = route
    }

    @Test("a weighted split lands within ±5% of its weights over 2,000 requests")
    func weightedSplit() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "split", [.init(provider: "mock", model: "m-a", weight: 3), .init(provider: "mock", model: "m-b", weight: 1)])
        }) { h in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for i in 0..<250 {
                            let status = try await h.chat("split \(worker) \(i)", model: "split").status
                            #expect(status == 200)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let a = Double(h.mock.requests(model: "m-a")), b = Double(h.mock.requests(model: "m-b"))
            #expect(a + b == 2000)
            #expect(abs(a / 2000 - 0.75) <= 0.05, "m-a took \(a) of 2000")
        }
    }

    @Test("retries run out on one deployment, then the next is tried, then the fallback model; its answer is not cached")
    func fallback() async throws {
        try await H.run(inProcess: true, configure: { c in
            H.patient(&c)  // five calls in all: on a loaded machine they may take longer than 2 s
            c.providers["mock"]!.retries = 1
            c.providers["mock"]!.retryBackoffMs = 5
            Self.route(&c, "primary", [.init(provider: "mock", model: "mock-error-500", weight: 1_000_000),
                                       .init(provider: "mock", model: "mock-flaky-99", weight: 1)],
                       fallbacks: ["backup"], cache: true)
            Self.route(&c, "backup", [.init(provider: "mock", model: "backup-model")], cache: true)
        }) { h in
            let reply = try await h.chat("Which way?", model: "primary")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.headers.first(name: "x-deja-upstream") == "mock/backup-model")
            #expect(reply.headers.first(name: "x-deja-attempts") == "5")
            #expect(h.mock.requests(model: "mock-error-500") == 2 && h.mock.requests(model: "mock-flaky-99") == 2)
            await h.settle()
            // cache_fallback_answers is off: the next request goes upstream again.
            #expect(try await h.chat("Which way?", model: "primary").cache == "miss")
            // A stream fails over the same way before its first byte.
            let streamed = try await h.chat("Which way, streamed?", model: "primary", stream: true)
            #expect(streamed.status == 200 && streamed.events.last == "[DONE]")
            #expect(streamed.headers.first(name: "x-deja-upstream") == "mock/backup-model")
        }
    }

    @Test("cache_fallback_answers stores a fallback's answer under the model asked for")
    func cachedFallback() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "primary", [.init(provider: "mock", model: "mock-error-500")], fallbacks: ["backup"], cache: true) {
                $0.cacheFallbackAnswers = true
            }
            Self.route(&c, "backup", [.init(provider: "mock", model: "backup-model")])
        }) { h in
            #expect(try await h.chat("Stored?", model: "primary").status == 200)
            await h.settle()
            let again = try await h.chat("Stored?", model: "primary")
            #expect(again.cache == "hit")
            #expect(again.json["model"]?.stringValue == "backup-model", "the entry says which model answered")
        }
    }

    @Test("a context-length error goes to context_fallback, a content refusal to content_fallback, another 400 back to the client")
    func specialFallbacks() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "small", [.init(provider: "mock", model: "mock-error-context")], fallbacks: ["other"]) {
                $0.contextFallback = "large"
            }
            Self.route(&c, "strict", [.init(provider: "mock", model: "mock-error-content")]) { $0.contentFallback = "lenient" }
            Self.route(&c, "bad", [.init(provider: "mock", model: "mock-error-400")], fallbacks: ["other"])
            Self.route(&c, "large", [.init(provider: "mock", model: "large-model")])
            Self.route(&c, "lenient", [.init(provider: "mock", model: "lenient-model")])
            Self.route(&c, "other", [.init(provider: "mock", model: "other-model")])
        }) { h in
            #expect(try await h.chat("A long prompt", model: "small").headers.first(name: "x-deja-upstream") == "mock/large-model")
            #expect(try await h.chat("A touchy prompt", model: "strict").headers.first(name: "x-deja-upstream") == "mock/lenient-model")
            let bad = try await h.chat("A bad request", model: "bad")
            #expect(bad.status == 400)
            #expect(h.mock.requests(model: "other-model") == 0, "a client error is not fallen back")
        }
    }

    @Test("a breaker opens after N failures, skips the deployment, probes after the cool-down, and closes on success")
    func breaker() async throws {
        try await H.run(inProcess: true, configure: { c in
            // A cool-down long enough that a loaded machine does not reach it during the open phase.
            c.providers["mock"]!.breaker = BreakerConfiguration(failures: 2, cooldown: 3)
            // The flaky deployment fails its first 3 calls; the weights send every request to it first.
            Self.route(&c, "brk", [.init(provider: "mock", model: "mock-flaky-3", weight: 1_000_000),
                                   .init(provider: "mock", model: "steady", weight: 1)])
        }) { h in
            func state() async throws -> String? {
                let list = try await h.request(.GET, "/v1/admin/deployments", headers: h.admin).json["data"]?.arrayValue ?? []
                return list.first { $0["upstream_model"]?.stringValue == "mock-flaky-3" }?["state"]?.stringValue
            }
            for _ in 0..<2 { #expect(try await h.chat("b", model: "brk").status == 200) }
            #expect(try await state() == "open")
            #expect(h.mock.requests(model: "mock-flaky-3") == 2)
            // Open: skipped.
            for _ in 0..<2 { #expect(try await h.chat("b", model: "brk").headers.first(name: "x-deja-upstream") == "mock/steady") }
            #expect(h.mock.requests(model: "mock-flaky-3") == 2)
            // After the cool-down one probe goes (its third failure: open again), then one that succeeds closes it.
            try await Task.sleep(for: .milliseconds(3100))
            _ = try await h.chat("b", model: "brk")
            #expect(h.mock.requests(model: "mock-flaky-3") == 3)
            #expect(try await state() == "open")
            try await Task.sleep(for: .milliseconds(3100))
            #expect(try await h.chat("b", model: "brk").headers.first(name: "x-deja-upstream") == "mock/mock-flaky-3")
            #expect(try await state() == "closed")
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_breaker_transitions_total{deployment="mock/mock-flaky-3",state="open"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"deja_breaker_transitions_total{deployment="mock/mock-flaky-3",state="closed"} 1"#))
        }
    }

    @Test("a deployment at its rpm is skipped, not queued; when all are, 429 deployments_busy")
    func quotas() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "quota", [.init(provider: "mock", model: "q-a", weight: 1_000_000, rpm: 2), .init(provider: "mock", model: "q-b", rpm: 1)])
        }) { h in
            for i in 0..<3 { #expect(try await h.chat("q \(i)", model: "quota").status == 200) }
            #expect(h.mock.requests(model: "q-a") == 2 && h.mock.requests(model: "q-b") == 1)
            let busy = try await h.chat("q 4", model: "quota")
            #expect(busy.status == 429)
            #expect(busy.json["error"]?["code"]?.stringValue == "deployments_busy")
        }
    }

    @Test("a deployment's tpm is settled with the tokens the provider counted, not the prompt's estimate")
    func tokenQuotaSettled() async throws {
        // mock-reasoning spends 50 completion tokens on every answer; the prompt's estimate is 2.
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "tpm", [.init(provider: "mock", model: "mock-reasoning", weight: 1_000_000, tpm: 100),
                                   .init(provider: "mock", model: "t-b")])
        }) { h in
            for i in 0..<4 {
                let status = try await h.chat("t \(i)", model: "tpm").status
                #expect(status == 200)
            }
            // Two answers of 50+ tokens spend the 100; on estimates alone all four would fit.
            #expect(h.mock.requests(model: "mock-reasoning") == 2, "\(h.mock.requests(model: "mock-reasoning"))")
            #expect(h.mock.requests(model: "t-b") == 2)
        }
    }

    @Test("least_busy and lowest_latency order the deployments by their load and their measured latency")
    func strategies() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.route(&c, "fast", [.init(provider: "mock", model: "f-a"), .init(provider: "mock", model: "f-b")]) { $0.strategy = .lowestLatency }
        }) { h in
            for i in 0..<20 { #expect(try await h.chat("f \(i)", model: "fast").status == 200) }
            let list = try await h.request(.GET, "/v1/admin/deployments", headers: h.admin).json["data"]?.arrayValue ?? []
            let fast = list.filter { $0["model"]?.stringValue == "fast" }
            #expect(fast.count == 2 && fast.allSatisfy { $0["strategy"]?.stringValue == "lowest_latency" })
            // Both were measured (each went first once while unmeasured), and the rest went to the faster.
            #expect(fast.allSatisfy { $0["latency_ms"]?.doubleValue != nil })
            #expect(h.mock.requests(model: "f-a") + h.mock.requests(model: "f-b") == 20)
        }
    }
}
