import MockProvider
import Foundation
import Gateway
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// Pages of the origins in `server.cors_origins` may call Deja from the browser; no other
/// origin may read its answers, and with the list empty none may.
@Suite("CORS")
struct CORSTests {
    typealias H = GatewayHarness
    static let page = "http://localhost:3000"

    static func preflight(_ h: H, origin: String, path: String = "/v1/chat/completions") async throws -> H.Reply {
        try await h.request(
            .OPTIONS, path,
            headers: ["origin": origin, "access-control-request-method": "POST",
                      "access-control-request-headers": "authorization, content-type, x-stainless-os"],
            contentType: nil)
    }

    @Test("a listed origin gets its preflight answered and may read answers, errors and streams; others may not")
    func listedOrigin() async throws {
        try await H.run(configure: { $0.server.corsOrigins = [Self.page, "https://app.example.com"] }) { h in
            let allowed = try await Self.preflight(h, origin: Self.page)
            #expect(allowed.status == 204)
            #expect(allowed.headers.first(name: "access-control-allow-origin") == Self.page)
            #expect(allowed.headers.first(name: "access-control-allow-headers") == "authorization, content-type, x-stainless-os")
            #expect(allowed.headers.first(name: "access-control-allow-methods")?.contains("POST") == true)
            #expect(allowed.headers.first(name: "access-control-max-age") == "600")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 0, "a preflight is never forwarded")
            // Origins compare whole and without regard to case, as browsers send them.
            let upper = try await Self.preflight(h, origin: "HTTPS://APP.example.com")
            #expect(upper.status == 204)

            let page = ["origin": Self.page]
            let answer = try await h.chat("How do I reset my password?", headers: page)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "access-control-allow-origin") == Self.page)
            #expect(answer.headers.first(name: "vary") == "Origin")
            let exposed = answer.headers.first(name: "access-control-expose-headers") ?? ""
            for header in ["x-deja-cache", "x-request-id", "retry-after", "x-ratelimit-remaining-requests"] {
                #expect(exposed.contains(header), "\(header) in \(exposed)")
            }
            await h.settle()
            let streamed = try await h.chat("How do I reset my password?", stream: true, headers: page)
            #expect(streamed.cache == "hit")
            #expect(streamed.headers.first(name: "access-control-allow-origin") == Self.page)
            let error = try await h.request(.POST, "/v1/chat/completions", body: Data("{oops".utf8), headers: page)
            #expect(error.status == 400)
            #expect(error.headers.first(name: "access-control-allow-origin") == Self.page, "a page can read why it failed")

            for other in ["http://evil.example", "http://localhost:3001", "http://localhost:3000/"] {
                let refused = try await Self.preflight(h, origin: other)
                #expect(refused.status != 204, "\(other)")
                #expect(refused.headers.first(name: "access-control-allow-origin") == nil, "\(other)")
                let read = try await h.chat("How do I reset my password?", headers: ["origin": other])
                #expect(read.headers.first(name: "access-control-allow-origin") == nil, "\(other)")
            }
            let noOrigin = try await h.chat("How do I reset my password?")
            #expect(noOrigin.headers.first(name: "access-control-allow-origin") == nil)
        }
    }

    @Test("with server.cors_origins empty (the default) no origin is allowed; * allows any, with a warning")
    func defaultsAndAny() async throws {
        try await H.run(inProcess: true) { h in
            let preflight = try await Self.preflight(h, origin: Self.page)
            #expect(preflight.status == 404)
            #expect(preflight.headers.first(name: "access-control-allow-origin") == nil)
            let answer = try await h.chat("Hello?", headers: ["origin": Self.page])
            #expect(answer.headers.first(name: "access-control-allow-origin") == nil)
        }
        try await H.run(inProcess: true, configure: { $0.server.corsOrigins = ["*"] }) { h in
            let any = try await Self.preflight(h, origin: "http://anything.example:8000")
            #expect(any.status == 204)
            #expect(h.gateway.startupWarnings.contains { $0.contains("server.cors_origins is \"*\"") })
        }
    }
}
