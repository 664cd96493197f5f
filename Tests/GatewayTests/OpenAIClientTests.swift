import Foundation
import Gateway
import Testing
import TestSupport

@Suite("The official OpenAI and Anthropic Python clients")
struct OpenAIClientTests {
    static let python = ".build-py/bin/python"

    /// Runs a client script against a gateway with a Deja key, on a thread of its own: two of
    /// these at once would otherwise hold both threads of Swift concurrency's pool on a 2-core
    /// machine, and the gateway under test could not answer them.
    static func runClient(_ arguments: [String], key: String) async throws -> ChildProcess.Result {
        let environment: [String: String] = ["DEJA_KEY": key]
        return try await onOwnThread { try ChildProcess.run(Self.python, arguments, environment: environment) }
    }

    /// `fixtures/openai_client.py` run with the `openai` package that `make test` installs into
    /// `.build-py`: plain and streamed chat completions, cache headers, embeddings, and the
    /// Responses API, plain and through the SDK's stream helper.
    @Test("works against Deja unchanged, streaming included, with a Deja key (server.auth: keys)")
    func officialClient() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("\(Self.python) is missing: run `make test`, which installs the openai client there")
            return
        }
        try await GatewayHarness.run(configure: { $0.server.auth = .keys }) { h in
            let (_, secret) = try await h.governance.administration.createKey(KeySpec(tenant: "sdk"))
            try await h.governance.reload()
            let arguments: [String] = ["fixtures/openai_client.py", h.base + "/v1", "gpt-test", "client-test"]
            let run = try await Self.runClient(arguments, key: secret)
            let output: String = run.output
            #expect(run.status == 0, "\(output)")
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

    /// `fixtures/anthropic_client.py` with the `anthropic` package: the Messages API through the
    /// cache (miss, hit, semantic hit, a streamed hit and miss), tool use, token counting and an
    /// error, with a Deja key sent as Anthropic's SDK sends keys (`x-api-key`).
    @Test("the official Anthropic Python client works against Deja's /v1/messages")
    func anthropicClient() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("\(Self.python) is missing: run `make test`, which installs the anthropic client there")
            return
        }
        try await GatewayHarness.run(configure: { $0.server.auth = .keys }) { h in
            let (_, secret) = try await h.governance.administration.createKey(KeySpec(tenant: "claude-sdk"))
            try await h.governance.reload()
            let arguments: [String] = ["fixtures/anthropic_client.py", h.base, "gpt-test", "anthropic-test"]
            let run = try await Self.runClient(arguments, key: secret)
            let output: String = run.output
            #expect(run.status == 0, "\(output)")
            #expect(output.contains("paraphrase      x-deja-cache: semantic-hit"))
            #expect(output.contains("streamed        x-deja-cache: hit"))
            #expect(output.contains("tool use        tool_use lookup"))
        }
    }
}
