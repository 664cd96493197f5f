import AsyncHTTPClient
import DejaSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// `deja keys`, `deja tenants` and `deja usage` against the store file and a running
/// `deja serve` with `server.auth: keys`.
@Suite("deja keys, tenants and usage")
struct GovernanceCommandTests {
    static let client = HTTPClient(configuration: .deja())

    static func chat(_ port: Int, _ prompt: String, key: String?) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(string: #"{"model":"gpt-test","messages":[{"role":"user","content":"\#(prompt)"}]}"#))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// `deja.yaml` in `dir`: any port (plus `server`, lines of that section), a cache beside it,
    /// every model to the mock, then `extra` (whole sections).
    static func writeConfig(in dir: TemporaryDirectory, mockPort: Int, server: String = "", _ extra: String) throws -> String {
        let config = dir.path("deja.yaml")
        try """
            server:
              port: 0
            \(server)
            cache:
              store: cache.sqlite
              index_file: ""
            providers:
              mock:
                base_url: http://127.0.0.1:\(mockPort)/v1
            models:
              "*":
                provider: mock
            \(extra)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    @Test("keys made on the file work on the gateway; revoked through it they stop; usage survives a graceful stop")
    func keysAndUsage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (mock, mockPort) = try DejaBinary.startServer(["mock-upstream", "--port", "0"])
        defer { mock.terminate() }
        // Rows are written only at shutdown: a flush interval longer than the test.
        let config = try Self.writeConfig(in: dir, mockPort: mockPort, server: "  auth: keys", """
            governance:
              store: governance.sqlite
              reload_interval: 0.2
              prices:
                gpt-test: {input: 1000, output: 2000}
            usage:
              flush_interval: 60
            """)

        let tenant = try DejaBinary.run(["tenants", "create", "acme", "--rpm", "100", "--config", config])
        #expect(tenant.status == 0, "\(tenant.stderr)")
        let created = try DejaBinary.run(["keys", "create", "--tenant", "acme", "--name", "ci", "--json", "--config", config])
        #expect(created.status == 0, "\(created.stderr)")
        let key = try JSONValue.parse(Data(created.stdout.utf8))
        let id = key["id"]!.stringValue!, secret = key["secret"]!.stringValue!
        let listed = try DejaBinary.run(["keys", "list", "--config", config])
        #expect(listed.stdout.contains(id) && listed.stdout.contains("active"))
        #expect(!listed.stdout.contains(secret))
        let noSuchKey = try DejaBinary.run(["keys", "revoke", "key_missing", "--config", config])
        #expect(noSuchKey.status != 0 && noSuchKey.stderr.contains("No key 'key_missing'"))

        let env = ["DEJA_ADMIN_KEY": "cli-admin"]
        let (server, port) = try DejaBinary.startServer(["serve", "--config", config], environment: env)
        #expect(try await Self.chat(port, "How do I reset my password?", key: secret) == 200)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.chat(port, "How do I reset my password?", key: secret) == 200)
        #expect(try await Self.chat(port, "How do I reset my password?", key: nil) == 401)

        // A key made on the file while the gateway runs works once the gateway has reloaded.
        let later = try DejaBinary.run(["keys", "create", "--tenant", "beta", "--json", "--config", config])
        let laterSecret = try JSONValue.parse(Data(later.stdout.utf8))["secret"]!.stringValue!
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await Self.chat(port, "A question from beta", key: laterSecret) == 200)

        let revoked = try DejaBinary.run(["keys", "revoke", id, "--url", "http://127.0.0.1:\(port)"], environment: env)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("revoked"))
        #expect(try await Self.chat(port, "How do I reset my password?", key: secret) == 401)
        let online = try DejaBinary.run(["usage", "--by", "key", "--json", "--url", "http://127.0.0.1:\(port)"], environment: env)
        #expect(online.status == 0, "\(online.stderr)")

        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        let usage = try DejaBinary.run(["usage", "--by", "key", "--json", "--config", config])
        #expect(usage.status == 0, "\(usage.stderr)")
        let rows = try JSONValue.parse(Data(usage.stdout.utf8)).arrayValue ?? []
        let mine = rows.first { $0["group"]?.stringValue == id }
        #expect(mine?["requests"]?.intValue == 2)
        #expect(mine?["exact_hits"]?.intValue == 1)
        #expect((mine?["cost"]?.doubleValue ?? 0) > 0)
        #expect((mine?["saved_cost_exact"]?.doubleValue ?? 0) > 0)
        // Two keyless or revoked refusals, unattributed to a key or to this one.
        let all = rows.map { $0["requests"]?.intValue ?? 0 }.reduce(0, +)
        #expect(all == 5)
        let table = try DejaBinary.run(["usage", "--config", config])
        #expect(table.stdout.contains("requests") && table.stdout.contains("all"))
        let bad = try DejaBinary.run(["usage", "--since", "soon", "--config", config])
        #expect(bad.status != 0 && bad.stderr.contains("--since"))
    }

    @Test("a kill -9 loses at most the last flush interval of ledger rows")
    func killedGateway() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (mock, mockPort) = try DejaBinary.startServer(["mock-upstream", "--port", "0"])
        defer { mock.terminate() }
        let config = try Self.writeConfig(in: dir, mockPort: mockPort, """
            usage:
              flush_interval: 0.2
            """)
        let (server, port) = try DejaBinary.startServer(["serve", "--config", config])
        for i in 0..<20 { #expect(try await Self.chat(port, "Question \(i)", key: nil) == 200) }
        try await Task.sleep(for: .milliseconds(700))
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let usage = try DejaBinary.run(["usage", "--json", "--config", config])
        #expect(usage.status == 0, "\(usage.stderr)")
        let rows = try JSONValue.parse(Data(usage.stdout.utf8)).arrayValue ?? []
        #expect(rows.first?["requests"]?.intValue == 20, "every row older than the flush interval was written")
    }
}

