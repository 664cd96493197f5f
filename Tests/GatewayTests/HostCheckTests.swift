import MockProvider
import DejaSupport
import Foundation
@testable import Gateway
import SemanticCache
import Testing
import TestSupport

/// Against DNS rebinding: a page whose name was made to resolve to 127.0.0.1 reaches the gateway
/// with its own name in `Host`, and must be refused before anything is forwarded.
@Suite("Host check")
struct HostCheckTests {
    typealias H = GatewayHarness

    /// The status line of a chat request sent with `host` as the Host header (none when `nil`).
    static func status(port: Int, host: String?) async throws -> String {
        // "\r\n" is one Character in Swift: split on the string.
        try await exchange(port: port, host: host).head.components(separatedBy: "\r\n").first ?? ""
    }

    static func exchange(port: Int, host: String?) async throws -> (head: String, body: String) {
        try await onOwnThread {
            let connection = try RawHTTPConnection(port: port, timeout: 5)
            let body = #"{"model":"gpt-test","messages":[{"role":"user","content":"Which planet is largest?"}]}"#
            var head = "POST /v1/chat/completions HTTP/1.1\r\n"
            if let host { head += "Host: \(host)\r\n" }
            head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            try connection.send(Array((head + body).utf8))
            return (try connection.readHead(), try connection.readToEnd())
        }
    }

    @Test("on a loopback address, only localhost names and server.allowed_hosts are answered; others get 403")
    func loopback() async throws {
        try await H.run(configure: { $0.server.allowedHosts = ["deja.internal"] }) { h in
            for host in ["127.0.0.1:\(h.port)", "localhost:\(h.port)", "LOCALHOST", "app.localhost:\(h.port)", "[::1]:\(h.port)",
                         "127.0.0.2", "deja.internal:\(h.port)", "deja.internal."] {
                let status = try await Self.status(port: h.port, host: host)
                #expect(status == "HTTP/1.1 200 OK", "Host: \(host): \(status)")
            }
            #expect(try await Self.status(port: h.port, host: nil).hasPrefix("HTTP/1.1 200"), "no Host (HTTP/1.0 tools)")
            let asked = h.mock.requests(to: "/v1/chat/completions")
            for host in ["attacker.example", "attacker.example:\(h.port)", "127.0.0.1.attacker.example", "localhost.attacker.example",
                         "[::ffff:7f00:1]", "deja.internal.attacker.example"] {
                #expect(try await Self.status(port: h.port, host: host) == "HTTP/1.1 403 Forbidden", "Host: \(host)")
            }
            #expect(h.mock.requests(to: "/v1/chat/completions") == asked, "nothing refused reached the provider")
            let refused = try JSONValue.parse(Data(try await Self.exchange(port: h.port, host: "attacker.example").body.utf8))
            #expect(refused["error"]?["code"]?.stringValue == "host_not_allowed")
            #expect(refused["error"]?["message"]?.stringValue?.contains("server.allowed_hosts") == true)
        }
    }

    @Test("the rule: listening elsewhere answers any name unless allowed_hosts lists them; * answers any")
    func rule() {
        #expect(HostCheck(configuration: .init(host: "127.0.0.1")).allowed == [])
        #expect(HostCheck(configuration: .init(host: "localhost")).allowed == [])
        #expect(HostCheck(configuration: .init(host: "::1")).allowed == [])
        #expect(HostCheck(configuration: .init(host: "0.0.0.0")).allowed == nil)
        #expect(HostCheck(configuration: .init(host: "0.0.0.0", allowedHosts: ["Deja.Internal"])).allowed == ["deja.internal"])
        #expect(HostCheck(configuration: .init(host: "127.0.0.1", allowedHosts: ["*"])).allowed == nil)
        #expect(HostCheck.hostName("[::1]:8080") == "::1")
        #expect(HostCheck.hostName("Example.COM.:443") == "example.com")
        #expect(HostCheck.hostName("ÜNÏ.Example:443") == "ünï.example")
        #expect(HostCheck.hostName("localhost:") == "localhost")
        for name in ["localhost", "LocalHost:8080", "localhost.", "app.LOCALHOST", ".localhost", "127.0.0.1", "127.1.2.3:80",
                     "127.255.255.255.", "127.00.0.1", "[::1]", "[::1]:8080", "::1", "127.0.0.1:"] {
            #expect(HostCheck.isLoopback(name), "\(name)")
        }
        for name in ["127.0.0.1.nip.io", "127.0.0.256", "0127.0.0.1", "127.0.0", "127.0.0.1.1", "127..0.1", "127.0.0.1:80:90",
                     "xlocalhost", "localhost.example", "localhos", "[::2]", "::1:80", "128.0.0.1", "127.0.0.+1", ""] {
            #expect(!HostCheck.isLoopback(name), "\(name)")
        }
    }

    @Test("deja serve warns at start about a non-loopback address with provider keys, and a lookup API without a key")
    func startupWarnings() async throws {
        try await H.run { h in #expect(h.gateway.startupWarnings.isEmpty) }
        try await H.run(configure: { $0.server.adminKeyEnv = "DEJA_TEST_NEVER_SET" }) { h in
            #expect(h.gateway.startupWarnings == ["the lookup API (/v1/cache/...) answers 401: set DEJA_TEST_NEVER_SET to use it"])
        }
        let exposed = Gateway.startupWarnings(.init(host: "0.0.0.0"), keyedProviders: ["openai"], hasAdminKey: true)
        #expect(exposed.count == 1 && exposed[0].contains("0.0.0.0") && exposed[0].contains("openai"), "\(exposed)")
        #expect(exposed[0].contains("unencrypted unless server.tls is set"))
        let encrypted = Gateway.startupWarnings(
            .init(host: "0.0.0.0", tls: TLSFiles(certFile: "c.pem", keyFile: "k.pem")), keyedProviders: [], hasAdminKey: true)
        #expect(encrypted.count == 1 && !encrypted[0].contains("unencrypted"), "\(encrypted)")
        #expect(Gateway.startupWarnings(.init(host: "localhost"), keyedProviders: ["openai"], hasAdminKey: true).isEmpty)
    }
}
