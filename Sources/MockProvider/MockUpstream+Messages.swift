import DejaSupport
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOFoundationEssentialsCompat

extension MockUpstream {
    /// `POST /v1/messages`, Anthropic's Messages API: the same answers as the chat route (the
    /// fixed function of the last user text), tool use for `mock-tools`, the event stream, and
    /// the same failures by model name in Anthropic's error shape (`mock-flaky-N` answers 529
    /// overloaded, as Anthropic does).
    func messages(_ body: JSONValue, model: String) async throws -> Response {
        if let fault = anthropicFault(model: model) { return fault }
        guard body["max_tokens"]?.intValue != nil, let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return Self.anthropicError(400, "invalid_request_error", "mock: max_tokens and messages are required")
        }
        let lastUser = messages.last { $0["role"]?.stringValue == "user" }
        let prompt = (lastUser?["content"]?.stringValue)
            ?? (lastUser?["content"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
                .joined(separator: " ")
        let text = Self.answer(to: prompt)
        let inputTokens = Int64(messages.map { Self.words(Self.text(of: $0)) }.reduce(0, +) + Self.words(body["system"]?.stringValue ?? ""))
        let outputTokens = Int64(Self.words(text))
        let id = "msg_mock_\(counters.next(model: "#messages"))"
        let tools = model == "mock-tools"
        let toolUse: JSONValue = ["type": "tool_use", "id": "toolu_mock_1", "name": "lookup", "input": ["query": .string(String(prompt.prefix(50)))]]
        let content: JSONValue = tools ? [toolUse] : [["type": "text", "text": .string(text)]]
        let stop: JSONValue = tools ? "tool_use" : "end_turn"
        guard body["stream"]?.boolValue == true else {
            return Self.json([
                "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": content,
                "stop_reason": stop, "stop_sequence": .null,
                "usage": ["input_tokens": .int(inputTokens), "output_tokens": .int(outputTokens)],
            ])
        }
        var events: [JSONValue] = [[
            "type": "message_start", "message": [
                "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
                "stop_reason": .null, "usage": ["input_tokens": .int(inputTokens), "output_tokens": 1],
            ],
        ]]
        if tools {
            let json = (toolUse["input"] ?? [:]).jsonString
            events.append(["type": "content_block_start", "index": 0, "content_block": ["type": "tool_use", "id": "toolu_mock_1", "name": "lookup", "input": [:]]])
            events.append(["type": "content_block_delta", "index": 0, "delta": ["type": "input_json_delta", "partial_json": .string(String(json.prefix(5)))]])
            events.append(["type": "content_block_delta", "index": 0, "delta": ["type": "input_json_delta", "partial_json": .string(String(json.dropFirst(5)))]])
        } else {
            events.append(["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]])
            var word = ""
            for ch in text {
                word.append(ch)
                if ch == " " {
                    events.append(["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": .string(word)]])
                    word = ""
                }
            }
            if !word.isEmpty { events.append(["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": .string(word)]]) }
        }
        events.append(["type": "content_block_stop", "index": 0])
        events.append(["type": "message_delta", "delta": ["stop_reason": stop, "stop_sequence": .null], "usage": ["output_tokens": .int(outputTokens)]])
        events.append(["type": "message_stop"])
        return stream(events, model: model, done: false)
    }

    /// The chat route's failures by model name, as Anthropic answers them.
    func anthropicFault(model: String) -> Response? {
        switch model {
        case "mock-error-500": return Self.anthropicError(500, "api_error", "mock: internal error")
        case "mock-error-429":
            var r = Self.anthropicError(429, "rate_limit_error", "mock: rate limited")
            r.headers[HTTPField.Name("retry-after")!] = "0"
            return r
        case "mock-error-400": return Self.anthropicError(400, "invalid_request_error", "mock: bad request")
        case "mock-error-context": return Self.anthropicError(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
        default:
            if model.hasPrefix("mock-flaky-"), let failures = Int(model.dropFirst("mock-flaky-".count)), counters.next(model: model) <= failures {
                return Self.anthropicError(529, "overloaded_error", "mock: overloaded")
            }
            return nil
        }
    }

    static func anthropicError(_ status: Int, _ type: String, _ message: String) -> Response {
        let body: JSONValue = ["type": "error", "error": ["type": .string(type), "message": .string(message)]]
        return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(data: body.canonicalData)))
    }
}
