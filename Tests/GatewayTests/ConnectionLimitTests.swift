import DejaSupport
import Foundation
@testable import Gateway
import NIOHTTP1
import Testing
import TestSupport

/// The limits below the router: a request must arrive whole within `server.request_timeout`,
/// and at most `server.max_connections` connections are served.
@Suite("Connection limits")
struct ConnectionLimitTests {
    typealias H = GatewayHarness

    static func errorCode(_ reply: String) throws -> String? {
        let body = try #require(reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) })
        return try JSONValue.parse(Data(body.utf8))["error"]?["code"]?.stringValue
    }

    @Test("a client that drips its headers or its body past server.request_timeout gets a 408 in the OpenAI shape and is closed; a steady one is not cut")
    func slowClients() async throws {
        try await H.run(configure: { $0.server.requestTimeout = 1; $0.server.idleTimeout = 60 }) { h in
            let port = h.port
            let body = Array(CacheKeys.plainChatBody(model: "gpt-test", prompt: "Dripping slowly", system: nil).canonicalData)
            let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\n\r\n"
            // Each drips a byte every 0.3 s: the idle timeout (60 s) never fires.
            let (headers, bodies, started) = try await onOwnThread {
                func drip(_ bytes: [UInt8], on connection: RawHTTPConnection) throws {
                    for byte in bytes {
                        try connection.send([byte])
                        Thread.sleep(forTimeInterval: 0.3)
                    }
                }
                let started = Date()
                let a = try RawHTTPConnection(port: port, timeout: 10)
                try? drip(Array(head.utf8), on: a)
                let headers = try a.readToEnd()
                let b = try RawHTTPConnection(port: port, timeout: 10)
                try b.send(Array(head.utf8))
                try? drip(body, on: b)
                let bodies = try b.readToEnd()
                return (headers, bodies, started)
            }
            for reply in [headers, bodies] {
                #expect(reply.hasPrefix("HTTP/1.1 408 "), "\(reply)")
                #expect(try Self.errorCode(reply) == "request_timeout")
                #expect(reply.lowercased().contains("connection: close"))
            }
            // Two cut-offs at about a second each (not the idle timeout's minute).
            #expect(Date().timeIntervalSince(started) < 10)
            // A request that arrives in time on a kept-alive connection is answered, twice.
            let steady = try await onOwnThread {
                let c = try RawHTTPConnection(port: port, timeout: 10)
                var replies: [String] = []
                for _ in 0..<2 {
                    try c.send(Array(head.utf8))
                    Thread.sleep(forTimeInterval: 0.5)
                    try c.send(body)
                    replies.append(try c.readResponse().head)
                    Thread.sleep(forTimeInterval: 1.5)  // idle between requests longer than the timeout
                }
                return replies
            }
            #expect(steady.allSatisfy { $0.hasPrefix("HTTP/1.1 200 ") }, "\(steady)")
            let metrics = try await h.request(.GET, "/metrics")
            #expect(metrics.text.contains("deja_connections_refused_total{reason=\"request_timeout\"} 2"), "\(metrics.text)")
            #expect(try await h.chat("Still there?").status == 200)
        }
    }

    @Test("a connection over server.max_connections gets a 503 with Retry-After and is closed; one more fits once another closes")
    func connectionCap() async throws {
        try await H.run(configure: { $0.server.maxConnections = 3 }) { h in
            let port = h.port
            let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
            let (refused, afterwards) = try await onOwnThread {
                // Three held open, each with a request answered, so they are surely counted.
                let held = try (0..<3).map { _ in try RawHTTPConnection(port: port, timeout: 5) }
                for c in held {
                    try c.send(request)
                    _ = try c.readHead()
                }
                let fourth = try RawHTTPConnection(port: port, timeout: 5)
                try fourth.send(request)
                let refused = try fourth.readToEnd()
                held[0].close()
                Thread.sleep(forTimeInterval: 0.3)
                let fifth = try RawHTTPConnection(port: port, timeout: 5)
                try fifth.send(request)
                return (refused, try fifth.readHead())
            }
            #expect(refused.hasPrefix("HTTP/1.1 503 "), "\(refused)")
            #expect(refused.lowercased().contains("retry-after: 1"))
            #expect(try Self.errorCode(refused) == "too_many_connections")
            #expect(afterwards.hasPrefix("HTTP/1.1 200 "), "\(afterwards)")
        }
    }

    @Test("the connection count keeps its peak; memory is handed back once after a burst of 1,000 or more has closed, not for a trickle")
    func closedConnectionMemory() {
        let connections = OpenConnections(limit: 0)
        let memory = ClosedConnectionMemory(connections: connections)
        for _ in 0..<1_500 { #expect(connections.admit()) }
        #expect(!memory.release(), "nothing closed yet")
        for _ in 0..<1_400 { connections.release() }
        #expect(connections.current == 100)
        #expect(memory.release(), "1,400 closed since the peak of 1,500")
        #expect(!memory.release(), "once per burst")
        for _ in 0..<600 { #expect(connections.admit()) }
        for _ in 0..<600 { connections.release() }
        #expect(!memory.release(), "a burst of 600 is a trickle")
        let capped = OpenConnections(limit: 2)
        #expect(capped.admit() && capped.admit())
        #expect(!capped.admit(), "the third is refused and not counted")
        #expect(capped.current == 2)
    }
}
