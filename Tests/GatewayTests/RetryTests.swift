import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import Testing
import TestSupport

/// `providers.*.retries`: a failing provider is tried again before anything reaches the client,
/// within the deadline, and the answer says how many calls it took.
@Suite("Upstream retries")
struct RetryTests {
    typealias H = GatewayHarness

    static func retrying(_ retries: Int) -> @Sendable (inout DejaConfiguration) -> Void {
        { c in
            H.patient(&c)  // several calls within one request's deadline, on a loaded machine too
            c.providers["mock"]!.retries = retries
            c.providers["mock"]!.retryBackoffMs = 5
        }
    }

    @Test("503s within the retries end in the answer, plain and streamed, with x-deja-attempts")
    func recovers() async throws {
        try await H.run(configure: Self.retrying(2)) { h in
            let plain = try await h.chat("Flaky plain", model: "mock-flaky-2")
            #expect(plain.status == 200, "\(plain.text)")
            #expect(plain.headers.first(name: "x-deja-attempts") == "3")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 3)
            let streamed = try await h.chat("Flaky streamed", model: "mock-flaky-1", stream: true)
            #expect(streamed.status == 200)
            #expect(streamed.headers.first(name: "x-deja-attempts") == "2")
            #expect(streamed.events.last == "[DONE]")
            let metrics = try await h.request(.GET, "/metrics")
            #expect(metrics.text.contains(#"deja_upstream_retries_total{provider="mock",reason="status"} 3"#))
        }
    }

    @Test("retries that run out give the provider's failure with the attempts; a 400 is not retried")
    func givesUp() async throws {
        try await H.run(configure: Self.retrying(1)) { h in
            let failed = try await h.chat("Very flaky", model: "mock-flaky-5")
            #expect(failed.status == 502)
            #expect(failed.headers.first(name: "x-deja-attempts") == "2")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 2)
            let bad = try await h.chat("Bad request", model: "mock-error-400")
            #expect(bad.status == 400)
            #expect(bad.headers.first(name: "x-deja-attempts") == "1")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 3)
            // A 429 is retried after the provider's retry-after-ms (the mock's: 20 ms).
            let limited = try await h.chat("Rate limited", model: "mock-error-429")
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "x-deja-attempts") == "2")
            let metrics = try await h.request(.GET, "/metrics")
            #expect(metrics.text.contains(#"deja_upstream_retries_total{provider="mock",reason="rate_limited"} 1"#))
        }
    }

    @Test("x-deja-deadline-ms bounds the attempts together")
    func deadline() async throws {
        try await H.run(configure: Self.retrying(5)) { h in
            let start = ContinuousClock.now
            let late = try await h.chat("Never answered", model: "mock-timeout", headers: ["x-deja-deadline-ms": "300"])
            let elapsed = ContinuousClock.now - start
            #expect(late.status == 504)
            #expect(elapsed < .milliseconds(1_500), "gave up at the client's deadline, not the provider's timeout")
            let invalid = try await h.chat("Bad deadline", headers: ["x-deja-deadline-ms": "soon"])
            #expect(invalid.status == 400)
        }
    }
}
