import Foundation
import Gateway
import Testing
import TestSupport

@Suite("The official OpenAI Python client")
struct OpenAIClientTests {
    /// `fixtures/openai_client.py` run with the `openai` package that `make test` installs into
    /// `.build-py`: plain and streamed chat completions, cache headers, embeddings, and the
    /// Responses API, plain and through the SDK's stream helper.
    @Test("works against Deja unchanged, streaming included, with a Deja key (server.auth: keys)")
    func officialClient() async throws {
        let python = ".build-py/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("\(python) is missing: run `make test`, which installs the openai client there")
            return
        }
        try await GatewayHarness.run(configure: { $0.server.auth = .keys }) { h in
            let (_, secret) = try await h.governance.administration.createKey(KeySpec(tenant: "sdk"))
            try await h.governance.reload()
            let process = Process()
            process.environment = ProcessInfo.processInfo.environment.merging(["DEJA_KEY": secret]) { _, new in new }
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["fixtures/openai_client.py", h.base + "/v1", "gpt-test", "client-test"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            try process.run()
            let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(output)")
            #expect(output.contains("same question   x-deja-cache: hit"))
            #expect(output.contains("paraphrase      x-deja-cache: semantic-hit"))
            #expect(output.contains("responses API   x-deja-cache: miss, then hit"))
            #expect(output.contains("responses, streamed: a hit replayed (True), a miss stored (x-deja-cache then: hit)"))
            // Every call was made with the key, and the ledger has them under it.
            try await h.governance.ledger.flush()
            let rows = try await h.governance.store.usage(UsageQuery(by: .tenant, since: 0))
            #expect(rows.map(\.group) == ["sdk"])
            #expect((rows.first?.exactHits ?? 0) > 0 && (rows.first?.semanticHits ?? 0) > 0)
        }
    }
}
