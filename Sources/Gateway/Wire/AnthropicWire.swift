import DejaSupport
import Foundation

/// Chat completions to Anthropic's Messages API and back, for providers of `kind: anthropic`:
/// the request (system prompt, roles, images, tools and tool results, `max_tokens`, stop
/// sequences, sampling), the answer (text, tool use, stop reason, usage) and its event stream
/// (``AnthropicStreamTranslator``).
enum AnthropicWire {
    /// `max_tokens` is required by Anthropic; a request without one gets this.
    static let defaultMaxTokens = 4096

    /// A chat completion request as a Messages request.
    /// - Throws: 400 for what Messages cannot express (`n` above 1, an image Deja cannot pass on).
    static func messagesRequest(fromChat body: JSONValue) throws(OpenAIError) -> JSONValue {
        var out: [String: JSONValue] = ["model": body["model"] ?? .null]
        if let n = body["n"]?.intValue, n > 1 {
            throw .invalidRequest("'n' above 1 cannot be sent to an Anthropic provider", param: "n")
        }
        var system: [String] = []
        var messages: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            // Messages alternate user and assistant: consecutive ones of one role are joined.
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].blocks += blocks
            } else {
                messages.append((role, blocks))
            }
        }
        for message in body["messages"]?.arrayValue ?? [] {
            let role = message["role"]?.stringValue ?? "user"
            switch role {
            case "system", "developer":
                system.append(InputLimits.text(of: message["content"]))
            case "assistant":
                var blocks = try contentBlocks(message["content"])
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
                    blocks.append([
                        "type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "",
                        "input": (try? JSONValue.parse(arguments)) ?? [:],
                    ])
                }
                append("assistant", blocks)
            case "tool", "function":
                append("user", [[
                    "type": "tool_result", "tool_use_id": message["tool_call_id"] ?? message["name"] ?? "",
                    "content": .string(InputLimits.text(of: message["content"])),
                ]])
            default:
                append("user", try contentBlocks(message["content"]))
            }
        }
        if !system.isEmpty { out["system"] = .string(system.joined(separator: "\n\n")) }
        out["messages"] = .array(messages.map { ["role": .string($0.role), "content": .array($0.blocks)] })
        out["max_tokens"] = .int(Int64(body["max_tokens"]?.intValue ?? body["max_completion_tokens"]?.intValue ?? defaultMaxTokens))
        for field in ["temperature", "top_p", "stream"] where body[field] != nil && body[field] != .null { out[field] = body[field] }
        switch body["stop"] {
        case .string(let s)?: out["stop_sequences"] = [.string(s)]
        case .array(let list)?: out["stop_sequences"] = .array(list)
        default: break
        }
        if let tools = body["tools"]?.arrayValue {
            out["tools"] = .array(tools.compactMap { tool -> JSONValue? in
                guard let f = tool["function"] else { return nil }
                var t: [String: JSONValue] = ["name": f["name"] ?? "", "input_schema": f["parameters"] ?? ["type": "object"]]
                if let d = f["description"] { t["description"] = d }
                return .object(t)
            })
        }
        switch body["tool_choice"] {
        case .string("auto")?: out["tool_choice"] = ["type": "auto"]
        case .string("required")?: out["tool_choice"] = ["type": "any"]
        case .string("none")?: out["tool_choice"] = ["type": "none"]
        case .object(let o)?: if let name = o["function"]?["name"] { out["tool_choice"] = ["type": "tool", "name": name] }
        default: break
        }
        if let user = body["user"]?.stringValue { out["metadata"] = ["user_id": .string(user)] }
        return .object(out)
    }

    /// A message's content as Messages content blocks: text, and images (data URLs as base64
    /// sources, others as URL sources).
    static func contentBlocks(_ content: JSONValue?) throws(OpenAIError) -> [JSONValue] {
        if let text = content?.stringValue { return text.isEmpty ? [] : [["type": "text", "text": .string(text)]] }
        var blocks: [JSONValue] = []
        for part in content?.arrayValue ?? [] {
            switch part["type"]?.stringValue {
            case "text"?:
                blocks.append(["type": "text", "text": part["text"] ?? ""])
            case "image_url"?:
                let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                    let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
                    let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
                    blocks.append(["type": "image", "source": [
                        "type": "base64", "media_type": .string(mediaType), "data": .string(String(url[url.index(after: comma)...])),
                    ]])
                } else {
                    blocks.append(["type": "image", "source": ["type": "url", "url": .string(url)]])
                }
            default:
                throw .invalidRequest("A '\(part["type"]?.stringValue ?? "?")' content part cannot be sent to an Anthropic provider",
                                      param: "messages")
            }
        }
        return blocks
    }

    /// Anthropic's stop reason as OpenAI's finish reason.
    static func finishReason(_ stop: String?) -> JSONValue {
        switch stop {
        case "max_tokens"?: "length"
        case "tool_use"?: "tool_calls"
        case "refusal"?: "content_filter"
        case nil: .null
        default: "stop"
        }
    }

    /// Anthropic's usage as a chat completion's: prompt tokens include those read from and
    /// written to its prompt cache; the read ones are also `cached_tokens`.
    static func usage(_ u: JSONValue?, output: Int64? = nil) -> JSONValue {
        let read = Int64(u?["cache_read_input_tokens"]?.intValue ?? 0)
        let prompt = Int64(u?["input_tokens"]?.intValue ?? 0) + read + Int64(u?["cache_creation_input_tokens"]?.intValue ?? 0)
        let completion = output ?? Int64(u?["output_tokens"]?.intValue ?? 0)
        return [
            "prompt_tokens": .int(prompt), "completion_tokens": .int(completion), "total_tokens": .int(prompt + completion),
            "prompt_tokens_details": ["cached_tokens": .int(read)],
        ]
    }

    /// A Messages answer as a chat completion; `nil` when it is not one.
    static func chatCompletion(fromMessage answer: JSONValue) -> JSONValue? {
        guard answer["type"]?.stringValue == "message", let blocks = answer["content"]?.arrayValue else { return nil }
        let text = blocks.filter { $0["type"]?.stringValue == "text" }.compactMap { $0["text"]?.stringValue }.joined()
        let calls: [JSONValue] = blocks.filter { $0["type"]?.stringValue == "tool_use" }.map { block in
            ["id": block["id"] ?? "", "type": "function", "function": [
                "name": block["name"] ?? "", "arguments": .string((block["input"] ?? [:]).jsonString),
            ]]
        }
        var message: [String: JSONValue] = ["role": "assistant", "content": text.isEmpty && !calls.isEmpty ? .null : .string(text)]
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return [
            "id": answer["id"] ?? "", "object": "chat.completion", "created": .int(Int64(Date().timeIntervalSince1970)),
            "model": answer["model"] ?? "",
            "choices": [["index": 0, "message": .object(message), "finish_reason": finishReason(answer["stop_reason"]?.stringValue),
                         "logprobs": .null]],
            "usage": usage(answer["usage"]),
        ]
    }
}
