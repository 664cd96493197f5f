import AsyncHTTPClient
import DejaSupport
import Embedding
import Foundation
import NIOCore
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A `deja serve` process on a PostgreSQL store, killed outright while another instance writes.
@Suite("deja serve on a shared store, killed")
struct SharedStoreKillTests {
    /// `GET path` on the gateway with the admin key; the JSON.
    static func adminGet(_ port: Int, _ path: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "authorization", value: "Bearer k")
        let response = try await ServeTests.client.execute(request, timeout: .seconds(30))
        return try JSONValue.parse(Data(String(buffer: try await response.body.collect(upTo: 16 << 20)).utf8))
    }

    @Test("killed with SIGKILL during 1,000 inserts by another instance, it catches up on restart: none missing, none twice")
    func killedDuringInserts() async throws {
        try await PostgresServer.with { server in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let config = dir.path("deja.yaml")
            try """
                server:
                  port: 0
                embedder: hashing
                cache:
                  store: \(server.url)
                  index_file: index.hnsw
                providers:
                  mock:
                    base_url: http://127.0.0.1:9/v1
                models:
                  "*":
                    provider: mock
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let env = ["DEJA_ADMIN_KEY": "k"]
            // Started and waited for on threads of their own, not the tests' two shared ones.
            var (gateway, port) = try await onOwnThread { try DejaBinary.startServer(["serve", "--config", config], environment: env) }

            // The other instance, in this process: same store, same embedder.
            let store = try await PostgresCacheStore(url: server.url)
            defer { store.close() }
            let writer = try await SemanticCache.open(
                configuration: CacheConfiguration(verifier: VerifierSettings(enabled: false)), embedder: try HashingEmbedder(), store: store)
            func request(_ i: Int) -> CacheRequest {
                CacheRequest(tenant: "", model: "gpt-test", context: ["temperature": .double(0)], prompt: "Question number \(i) about topic \(i * 7919 % 1000)")
            }
            for i in 0..<1_000 {
                _ = try await writer.insert(request(i), response: Data(#"{"answer":\#(i)}"#.utf8), model: "gpt-test")
                if i == 300 {
                    // Mid-stream, without warning: no snapshot saved, no counters flushed.
                    let killed = gateway
                    kill(killed.processIdentifier, SIGKILL)
                    try await onOwnThread { killed.waitUntilExit() }
                    #expect(killed.terminationReason == .uncaughtSignal)
                }
            }
            (gateway, port) = try await onOwnThread { try DejaBinary.startServer(["serve", "--config", config], environment: env) }
            defer { gateway.terminate() }
            var stats = JSONValue.null
            for _ in 0..<500 {
                stats = try await Self.adminGet(port, "/v1/cache/stats")
                if stats["entries"]?.intValue == 1_000 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(stats["entries"]?.intValue == 1_000, "\(stats["entries"] ?? .null)")
            // Nothing twice: the index holds one vector per entry.
            #expect(stats["index"]?["count"]?.intValue == 1_000, "\(stats["index"] ?? .null)")
            // The first, the one written as it died, and the last are all found by meaning.
            for i in [0, 300, 301, 999] {
                var search = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/cache/search")
                search.method = .POST
                search.headers.add(name: "authorization", value: "Bearer k")
                search.headers.add(name: "content-type", value: "application/json")
                let body: JSONValue = ["text": .string(request(i).prompt ?? ""), "k": 1]
                search.body = .bytes(ByteBuffer(string: body.jsonString))
                let reply = try await ServeTests.client.execute(search, timeout: .seconds(30))
                let json = try JSONValue.parse(Data(String(buffer: try await reply.body.collect(upTo: 1 << 20)).utf8))
                #expect(json["data"]?.arrayValue?.first?["prompt"]?.stringValue == request(i).prompt, "entry \(i): \(json)")
            }
        }
    }
}
