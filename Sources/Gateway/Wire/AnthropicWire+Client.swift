import DejaSupport
import Foundation
import HTTPTypes

extension AnthropicWire {
    /// A Messages request (what Anthropic's SDKs send to `POST /v1/messages`) as a chat
    /// completion request, so that it goes through the cache and to any provider like one.
    /// - Throws: 400 naming the field that is missing or not of the Messages API's shape.
    static func chatRequest(fromMessages body: JSONValue) throws(OpenAIError) -> JSONValue {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' must be a non-empty string", param: "model")
        }
        guard let maxTokens = body["max_tokens"]?.intValue, maxTokens > 0 else {
            throw .invalidRequest("'max_tokens' must be a positive integer", param: "max_tokens")
        }
        guard let turns = body["messages"]?.arrayValue, !turns.isEmpty else {
            throw .invalidRequest("'messages' must be a non-empty array", param: "messages")
        }
        var messages: [JSONValue] = []
        switch body["system"] {
        case .string(let s)?: messages.append(["role": "system", "content": .string(s)])
        case .array(let blocks)?:
            messages.append(["role": "system", "content": .string(blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n\n"))])
        default: break
        }
        for (i, turn) in turns.enumerated() {
            guard let role = turn["role"]?.stringValue, role == "user" || role == "assistant" else {
                throw .invalidRequest("messages[\(i)].role must be user or assistant", param: "messages")
            }
            if let text = turn["content"]?.stringValue {
                messages.append(["role": .string(role), "content": .string(text)])
                continue
            }
            guard let blocks = turn["content"]?.arrayValue else {
                throw .invalidRequest("messages[\(i)].content must be a string or an array of content blocks", param: "messages")
            }
            var parts: [JSONValue] = []
            var calls: [JSONValue] = []
            var results: [JSONValue] = []
            for block in blocks {
                switch block["type"]?.stringValue {
                case "text"?:
                    parts.append(["type": "text", "text": block["text"] ?? ""])
                case "image"?:
                    let source = block["source"]
                    let url = source?["type"]?.stringValue == "base64"
                        ? "data:\(source?["media_type"]?.stringValue ?? "image/png");base64,\(source?["data"]?.stringValue ?? "")"
                        : source?["url"]?.stringValue ?? ""
                    parts.append(["type": "image_url", "image_url": ["url": .string(url)]])
                case "tool_use"?:
                    calls.append(["id": block["id"] ?? "", "type": "function", "function": [
                        "name": block["name"] ?? "", "arguments": .string((block["input"] ?? [:]).jsonString),
                    ]])
                case "tool_result"?:
                    let content = block["content"]?.stringValue
                        ?? (block["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                    results.append(["role": "tool", "tool_call_id": block["tool_use_id"] ?? "", "content": .string(content)])
                default:
                    throw .invalidRequest(
                        "messages[\(i)]: a '\(block["type"]?.stringValue ?? "?")' block is not supported by this gateway", param: "messages")
                }
            }
            messages += results
            if !parts.isEmpty || !calls.isEmpty {
                // A single text part is sent as a string, as chat clients do, so that both meet in the cache.
                var message: [String: JSONValue] = ["role": .string(role)]
                if parts.count == 1, let text = parts[0]["text"] { message["content"] = text } else {
                    message["content"] = parts.isEmpty ? .null : .array(parts)
                }
                if !calls.isEmpty { message["tool_calls"] = .array(calls) }
                messages.append(.object(message))
            }
        }
        var chat: [String: JSONValue] = ["model": .string(model), "messages": .array(messages), "max_tokens": .int(Int64(maxTokens))]
        for field in ["temperature", "top_p"] where body[field] != nil { chat[field] = body[field] }
        if let stops = body["stop_sequences"]?.arrayValue { chat["stop"] = .array(stops) }
        if body["stream"]?.boolValue == true {
            chat["stream"] = true
            chat["stream_options"] = ["include_usage": true]
        }
        if let user = body["metadata"]?["user_id"] { chat["user"] = user }
        if let tools = body["tools"]?.arrayValue {
            chat["tools"] = .array(tools.map { t in
                var f: [String: JSONValue] = ["name": t["name"] ?? "", "parameters": t["input_schema"] ?? ["type": "object"]]
                if let d = t["description"] { f["description"] = d }
                return ["type": "function", "function": .object(f)]
            })
        }
        switch body["tool_choice"]?["type"]?.stringValue {
        case "auto"?: chat["tool_choice"] = "auto"
        case "any"?: chat["tool_choice"] = "required"
        case "none"?: chat["tool_choice"] = "none"
        case "tool"?: chat["tool_choice"] = ["type": "function", "function": ["name": body["tool_choice"]?["name"] ?? ""]]
        default: break
        }
        return .object(chat)
    }

    /// OpenAI's finish reason as Anthropic's stop reason.
    static func stopReason(_ finish: String?) -> JSONValue {
        switch finish {
        case "length"?: "max_tokens"
        case "tool_calls"?, "function_call"?: "tool_use"
        case "content_filter"?: "refusal"
        case nil: .null
        default: "end_turn"
        }
    }

    /// A chat completion as a Messages answer.
    static func message(fromChat answer: JSONValue) -> JSONValue {
        let choice = answer["choices"]?.arrayValue?.first
        var content: [JSONValue] = []
        if let text = choice?["message"]?["content"]?.stringValue, !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for call in choice?["message"]?["tool_calls"]?.arrayValue ?? [] {
            content.append([
                "type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "",
                "input": call["function"]?["arguments"]?.stringValue.flatMap { try? JSONValue.parse($0) } ?? [:],
            ])
        }
        return [
            "id": answer["id"] ?? "", "type": "message", "role": "assistant", "model": answer["model"] ?? "", "content": .array(content),
            "stop_reason": stopReason(choice?["finish_reason"]?.stringValue), "stop_sequence": .null,
            "usage": [
                "input_tokens": .int(Int64(answer["usage"]?["prompt_tokens"]?.intValue ?? 0)),
                "output_tokens": .int(Int64(answer["usage"]?["completion_tokens"]?.intValue ?? 0)),
            ],
        ]
    }

    /// An error in Anthropic's shape (`{"type": "error", "error": {"type", "message"}}`).
    static func errorBody(_ error: OpenAIError) -> JSONValue {
        let type: String
        switch error.status.code {
        case 400, 413, 422: type = "invalid_request_error"
        case 401: type = "authentication_error"
        case 403: type = "permission_error"
        case 404: type = "not_found_error"
        case 429: type = "rate_limit_error"
        case 503, 529: type = "overloaded_error"
        default: type = "api_error"
        }
        return ["type": "error", "error": ["type": .string(type), "message": .string(error.message)]]
    }
}
