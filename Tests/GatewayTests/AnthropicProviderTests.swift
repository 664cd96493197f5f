import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import Testing
import TestSupport

/// A provider of `kind: anthropic`: chat completions translated to the Messages API and back,
/// streams included, against the mock's `/v1/messages`.
@Suite("Anthropic provider")
struct AnthropicProviderTests {
    typealias H = GatewayHarness

    static func anthropic(_ c: inout DejaConfiguration) {
        var p = c.providers["mock"]!
        p.kind = .anthropic
        p.apiKeyEnv = "ANTHROPIC_TEST_KEY"
        p.retryBackoffMs = 5
        c.providers["claude"] = p
        c.models["claude-test"] = ModelRoute(provider: "claude")
        c.models["mock-tools"] = ModelRoute(provider: "claude")
        c.models["mock-flaky-2"] = ModelRoute(provider: "claude")
        c.models["mock-error-400"] = ModelRoute(provider: "claude", cache: false)
        c.models["mock-error-context"] = ModelRoute(provider: "claude", contextFallback: "claude-test")
        c.models["primary"] = ModelRoute(provider: "mock", model: "mock-error-500", fallbacks: ["claude-test"])
    }

    static let env = ["ANTHROPIC_TEST_KEY": "sk-ant-test-key"]

    @Test("a chat completion goes out as a Messages request and comes back as a chat completion, then hits")
    func plain() async throws {
        try await H.run(inProcess: true, configure: Self.anthropic, environment: Self.env) { h in
            let body: JSONValue = [
                "model": "claude-test", "max_tokens": 64, "temperature": 0.2, "stop": "END",
                "messages": [
                    ["role": "system", "content": "Be brief."],
                    ["role": "user", "content": "Hello"], ["role": "assistant", "content": "Hi"],
                    ["role": "user", "content": [["type": "text", "text": "What is Deja?"]]],
                ],
            ]
            let reply = try await h.post("/v1/chat/completions", body)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["object"]?.stringValue == "chat.completion")
            #expect(reply.assistantText == "This is the mock upstream's answer to \"What is Deja?\".")
            #expect(reply.json["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
            #expect((reply.json["usage"]?["prompt_tokens"]?.intValue ?? 0) > 0)
            #expect(reply.headers.first(name: "x-deja-upstream") == "claude/claude-test")
            let sent = h.mock.lastBody(to: "/v1/messages")
            #expect(sent?["system"]?.stringValue == "Be brief.")
            #expect(sent?["max_tokens"]?.intValue == 64 && sent?["stop_sequences"] == ["END"])
            #expect(sent?["messages"]?.arrayValue?.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user"])
            #expect(h.mock.lastHeaders(to: "/v1/messages")["x-api-key"] == "sk-ant-test-key")
            #expect(h.mock.lastHeaders(to: "/v1/messages")["anthropic-version"] == "2023-06-01")
            await h.settle()
            #expect(try await h.post("/v1/chat/completions", body).cache == "hit")
        }
    }

    @Test("Anthropic's event stream becomes chat completion chunks, usage included when asked; tool use becomes tool calls")
    func streams() async throws {
        try await H.run(inProcess: true, configure: Self.anthropic, environment: Self.env) { h in
            let streamed = try await h.chat("Stream this", model: "claude-test", stream: true,
                                             extra: ["stream_options": ["include_usage": true]])
            #expect(streamed.status == 200)
            #expect(streamed.assistantText == "This is the mock upstream's answer to \"Stream this\".")
            #expect(streamed.events.last == "[DONE]")
            let chunks = streamed.events.dropLast().compactMap { try? JSONValue.parse($0) }
            #expect(chunks.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" })
            #expect(chunks.last?["usage"]?["completion_tokens"]?.intValue == 9)
            let tools = try await h.chat("find Deja", model: "mock-tools")
            let call = tools.json["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first
            #expect(call?["function"]?["name"]?.stringValue == "lookup")
            #expect(call?["function"]?["arguments"]?.stringValue == #"{"query":"find Deja"}"#)
            #expect(tools.json["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "tool_calls")
            let streamedTools = try await h.chat("find Deja streamed", model: "mock-tools", stream: true)
            let arguments = streamedTools.events.compactMap { try? JSONValue.parse($0) }
                .compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"]?.stringValue }
                .joined()
            #expect(arguments == #"{"query":"find Deja streamed"}"#)
        }
    }

    @Test("errors come back in OpenAI's shape; overloaded (529) is retried; a too-long prompt takes the context fallback")
    func failures() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.anthropic(&c)
            H.patient(&c)  // retries and fallbacks: several calls within one request's deadline
            c.providers["claude"]!.retries = 2
        }, environment: Self.env) { h in
            let bad = try await h.chat("Bad", model: "mock-error-400")
            #expect(bad.status == 400)
            #expect(bad.json["error"]?["message"]?.stringValue == "mock: bad request")
            let flaky = try await h.chat("Busy", model: "mock-flaky-2")
            #expect(flaky.status == 200 && flaky.headers.first(name: "x-deja-attempts") == "3")
            let long = try await h.chat("Long", model: "mock-error-context")
            #expect(long.headers.first(name: "x-deja-upstream") == "claude/claude-test")
            // An OpenAI-compatible deployment that fails falls back to the Anthropic one.
            let fallback = try await h.chat("Fall over", model: "primary")
            #expect(fallback.status == 200 && fallback.headers.first(name: "x-deja-upstream") == "claude/claude-test")
            // The Responses API is not translated: a clear 400.
            let responses = try await h.post("/v1/responses", ["model": "claude-test", "input": "hi"])
            #expect(responses.status == 400 && responses.json["error"]?["code"]?.stringValue == "unsupported_for_provider")
        }
    }
}
