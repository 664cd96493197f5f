import DejaSupport
import Foundation
import HTTPTypes

/// Anthropic's event stream (`message_start`, `content_block_start`/`_delta`/`_stop`,
/// `message_delta`, `message_stop`) as chat completion chunks, event by event.
struct AnthropicStreamTranslator {
    /// Whether the client asked for the usage chunk (`stream_options.include_usage`).
    let includeUsage: Bool
    private var id = ""
    private var model = ""
    private let created = Int64(Date().timeIntervalSince1970)
    private var usage: JSONValue?
    /// Content block index → tool call index, for tool use blocks.
    private var toolIndex: [Int: Int] = [:]

    init(includeUsage: Bool) {
        self.includeUsage = includeUsage
    }

    /// The chunks (or `[DONE]`, as `nil`) for one event; an `error` event is thrown as the
    /// client's error.
    mutating func chunks(for event: JSONValue) throws(OpenAIError) -> [JSONValue?] {
        switch event["type"]?.stringValue {
        case "message_start"?:
            id = event["message"]?["id"]?.stringValue ?? ""
            model = event["message"]?["model"]?.stringValue ?? ""
            usage = event["message"]?["usage"]
            return [chunk(["role": "assistant", "content": ""])]
        case "content_block_start"?:
            guard let block = event["content_block"], block["type"]?.stringValue == "tool_use" else { return [] }
            let index = toolIndex.count
            toolIndex[event["index"]?.intValue ?? 0] = index
            return [chunk(["tool_calls": [[
                "index": .int(Int64(index)), "id": block["id"] ?? "", "type": "function",
                "function": ["name": block["name"] ?? "", "arguments": ""],
            ]]])]
        case "content_block_delta"?:
            let delta = event["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta"?:
                return [chunk(["content": delta?["text"] ?? ""])]
            case "input_json_delta"?:
                let index = toolIndex[event["index"]?.intValue ?? 0] ?? 0
                return [chunk(["tool_calls": [["index": .int(Int64(index)), "function": ["arguments": delta?["partial_json"] ?? ""]]]])]
            default:
                return []
            }
        case "message_delta"?:
            let output = event["usage"]?["output_tokens"]?.intValue.map(Int64.init)
            let final = AnthropicWire.usage(usage, output: output)
            var out: [JSONValue?] = [chunk([:], finish: AnthropicWire.finishReason(event["delta"]?["stop_reason"]?.stringValue))]
            if includeUsage {
                out.append([
                    "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
                    "choices": [], "usage": final,
                ])
            }
            return out
        case "message_stop"?:
            return [nil]
        case "error"?:
            let message = event["error"]?["message"]?.stringValue ?? "the stream failed"
            throw .upstream(.badGateway, "The upstream provider failed mid-stream: \(message)", code: "upstream_stream_error")
        default:
            return []
        }
    }

    private func chunk(_ delta: JSONValue, finish: JSONValue = .null) -> JSONValue {
        [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "delta": delta, "finish_reason": finish, "logprobs": .null]],
        ]
    }
}
