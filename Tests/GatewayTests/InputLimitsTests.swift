import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import Testing
import TestSupport

/// `guards.limits`: each limit refuses what goes over it with a 400 naming it, before the
/// provider is called, and lets what is within it through.
@Suite("Input limits")
struct InputLimitsTests {
    typealias H = GatewayHarness

    static func configure(_ c: inout DejaConfiguration) {
        c.guards.limits = InputLimits(maxMessages: 3, maxMessageChars: 40, maxTotalChars: 60, maxTokens: 500, maxTools: 1)
    }

    static func messages(_ texts: [String]) -> JSONValue {
        .array(texts.map { ["role": "user", "content": .string($0)] })
    }

    @Test("each limit at its boundary: the last allowed passes, one more is a 400 with its code")
    func boundaries() async throws {
        try await H.run(inProcess: true, configure: Self.configure) { h in
            func chat(_ body: [String: JSONValue]) async throws -> GatewayHarness.Reply {
                var full = body
                full["model"] = "gpt-test"
                if full["messages"] == nil { full["messages"] = Self.messages(["hello"]) }
                return try await h.post("/v1/chat/completions", .object(full))
            }
            let cases: [(ok: [String: JSONValue], over: [String: JSONValue], code: String)] = [
                (["messages": Self.messages(["a", "b", "c"])], ["messages": Self.messages(["a", "b", "c", "d"])], "too_many_messages"),
                (["messages": Self.messages([String(repeating: "é", count: 40)])],
                 ["messages": Self.messages([String(repeating: "é", count: 41)])], "message_too_long"),
                (["messages": Self.messages([String(repeating: "x", count: 30), String(repeating: "y", count: 30)])],
                 ["messages": Self.messages([String(repeating: "x", count: 30), String(repeating: "y", count: 31)])], "input_too_long"),
                (["max_tokens": 500], ["max_tokens": 501], "max_tokens_too_large"),
                (["max_completion_tokens": 500], ["max_completion_tokens": 501], "max_tokens_too_large"),
                (["tools": [["type": "function", "function": ["name": "a"]]]],
                 ["tools": [["type": "function", "function": ["name": "a"]], ["type": "function", "function": ["name": "b"]]]],
                 "too_many_tools"),
            ]
            for (ok, over, code) in cases {
                let passed = try await chat(ok)
                #expect(passed.status == 200, "\(code): \(passed.text)")
                let refused = try await chat(over)
                #expect(refused.status == 400, "\(code)")
                #expect(refused.json["error"]?["code"]?.stringValue == code)
                #expect(refused.json["error"]?["message"]?.stringValue?.contains("guards.limits") == true)
            }
            // Text in content parts counts as well.
            let parts: JSONValue = [["role": "user", "content": [["type": "text", "text": .string(String(repeating: "z", count: 41))]]]]
            #expect(try await chat(["messages": parts]).json["error"]?["code"]?.stringValue == "message_too_long")
            // The Responses API's input items and the completions prompt are held to the same.
            let responses = try await h.post("/v1/responses", ["model": "gpt-test", "input": .string(String(repeating: "q", count: 41))])
            #expect(responses.status == 400)
            let completions = try await h.post("/v1/completions", ["model": "gpt-test", "prompt": .string(String(repeating: "q", count: 61))])
            #expect(completions.json["error"]?["code"]?.stringValue == "message_too_long")
            // Only the requests within the limits reached the provider.
            #expect(h.mock.requests(to: "/v1/chat/completions") == cases.count)
        }
    }

    @Test("a body that is not UTF-8 is a 400, and the gateway goes on serving")
    func invalidUTF8() async throws {
        try await H.run(inProcess: true, configure: Self.configure) { h in
            var bytes = Data(#"{"model": "gpt-test", "messages": [{"role": "user", "content": "caf"#.utf8)
            bytes.append(contentsOf: [0xC3, 0x28, 0xFF])
            bytes.append(Data(#""}]}"#.utf8))
            let reply = try await h.request(.POST, "/v1/chat/completions", body: bytes)
            #expect(reply.status == 400)
            #expect(reply.json["error"]?["code"]?.stringValue == "invalid_json")
            #expect(try await h.chat("still here").status == 200)
        }
    }
}
