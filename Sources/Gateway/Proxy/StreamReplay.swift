public import DejaSupport
import SemanticCache

/// Turns a cached response object back into stream chunks.
public enum StreamReplay {
    /// Chunks of a cached `chat.completion`: the role, the reasoning and the content in pieces of
    /// a few words, the tool (or function) calls, the finish reason, then the usage when the
    /// client asked for it.
    public static func chat(_ completion: JSONValue, includeUsage: Bool) -> [JSONValue] {
        var base: [String: JSONValue] = [
            "id": completion["id"] ?? .null, "object": "chat.completion.chunk",
            "created": completion["created"] ?? .null, "model": completion["model"] ?? .null,
        ]
        if let f = completion["system_fingerprint"] { base["system_fingerprint"] = f }
        func chunk(_ choices: [JSONValue]) -> JSONValue {
            var c = base
            c["choices"] = .array(choices)
            return .object(c)
        }
        var out: [JSONValue] = []
        for choice in completion["choices"]?.arrayValue ?? [] {
            let index = choice["index"] ?? 0
            let message = choice["message"] ?? [:]
            let role = message["role"] ?? "assistant"
            out.append(chunk([["index": index, "delta": ["role": role, "content": ""], "finish_reason": .null, "logprobs": .null]]))
            // A reasoning model's thinking comes before its answer, as it streamed.
            for field in StreamAssembler.reasoningFields {
                guard let thinking = message[field]?.stringValue, !thinking.isEmpty else { continue }
                for piece in pieces(of: thinking) {
                    out.append(chunk([["index": index, "delta": [field: .string(piece)], "finish_reason": .null,
                                       "logprobs": .null]]))
                }
            }
            if let content = message["content"]?.stringValue {
                for piece in pieces(of: content) {
                    out.append(chunk([["index": index, "delta": ["content": .string(piece)], "finish_reason": .null,
                                       "logprobs": .null]]))
                }
            }
            if let refusal = message["refusal"], refusal != .null {
                out.append(chunk([["index": index, "delta": ["refusal": refusal], "finish_reason": .null, "logprobs": .null]]))
            }
            if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
                let deltas: [JSONValue] = calls.enumerated().map { i, call in
                    ["index": .int(Int64(i)), "id": call["id"] ?? .null, "type": call["type"] ?? "function",
                     "function": call["function"] ?? [:]]
                }
                out.append(chunk([["index": index, "delta": ["tool_calls": .array(deltas)], "finish_reason": .null,
                                   "logprobs": .null]]))
            }
            if let call = message["function_call"], call != .null {
                out.append(chunk([["index": index, "delta": ["function_call": call], "finish_reason": .null, "logprobs": .null]]))
            }
            out.append(chunk([["index": index, "delta": [:], "finish_reason": choice["finish_reason"] ?? "stop",
                               "logprobs": .null]]))
        }
        if includeUsage, let usage = completion["usage"] {
            var c = base
            c["choices"] = []
            c["usage"] = usage
            out.append(.object(c))
        }
        return out
    }

    /// Chunks of a cached `text_completion`.
    public static func completions(_ completion: JSONValue) -> [JSONValue] {
        let base: [String: JSONValue] = [
            "id": completion["id"] ?? .null, "object": "text_completion", "created": completion["created"] ?? .null,
            "model": completion["model"] ?? .null,
        ]
        var out: [JSONValue] = []
        for choice in completion["choices"]?.arrayValue ?? [] {
            let index = choice["index"] ?? 0
            for piece in pieces(of: choice["text"]?.stringValue ?? "") {
                var c = base
                c["choices"] = [["index": index, "text": .string(piece), "finish_reason": .null, "logprobs": .null]]
                out.append(.object(c))
            }
            var c = base
            c["choices"] = [["index": index, "text": "", "finish_reason": choice["finish_reason"] ?? "stop", "logprobs": .null]]
            out.append(.object(c))
        }
        return out
    }

    /// The events of a cached Responses API `response`, in the order OpenAI sends them:
    /// `response.created` and `response.in_progress` (the response without output), then per
    /// output item `output_item.added`, its content (a message's text parts as
    /// `content_part.added`, `output_text.delta` in pieces, `output_text.done`,
    /// `content_part.done`; a function call's arguments as `function_call_arguments.delta` and
    /// `.done`), `output_item.done`, and finally `response.completed` (`response.incomplete` for a
    /// response cut by its token limit) with the whole response.
    public static func responses(_ response: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        func emit(_ type: String, _ fields: [String: JSONValue]) {
            var event = fields
            event["type"] = .string(type)
            event["sequence_number"] = .int(Int64(out.count))
            out.append(.object(event))
        }
        var running = response.objectValue ?? [:]
        running["status"] = "in_progress"
        running["output"] = []
        running["usage"] = .null
        emit("response.created", ["response": .object(running)])
        emit("response.in_progress", ["response": .object(running)])
        for (i, item) in (response["output"]?.arrayValue ?? []).enumerated() {
            let output = JSONValue.int(Int64(i))
            let id = item["id"] ?? .null
            var started = item.objectValue ?? [:]
            if started["status"] != nil { started["status"] = "in_progress" }
            switch item["type"]?.stringValue {
            case "message": started["content"] = []
            case "function_call": started["arguments"] = ""
            default: break
            }
            emit("response.output_item.added", ["output_index": output, "item": .object(started)])
            if item["type"]?.stringValue == "message" {
                for (j, part) in (item["content"]?.arrayValue ?? []).enumerated() {
                    let at: [String: JSONValue] = ["item_id": id, "output_index": output, "content_index": .int(Int64(j))]
                    let kind = part["type"]?.stringValue ?? ""
                    let field = kind == "refusal" ? "refusal" : "text"
                    var empty = part.objectValue ?? [:]
                    empty[field] = ""
                    if empty["annotations"] != nil { empty["annotations"] = [] }
                    emit("response.content_part.added", at.merging(["part": .object(empty)]) { $1 })
                    let text = part[field]?.stringValue ?? ""
                    let name = kind == "refusal" ? "response.refusal" : "response.output_text"
                    for piece in pieces(of: text) { emit(name + ".delta", at.merging(["delta": .string(piece)]) { $1 }) }
                    emit(name + ".done", at.merging([field: .string(text)]) { $1 })
                    emit("response.content_part.done", at.merging(["part": part]) { $1 })
                }
            } else if item["type"]?.stringValue == "function_call" {
                let arguments = item["arguments"] ?? ""
                let at: [String: JSONValue] = ["item_id": id, "output_index": output]
                emit("response.function_call_arguments.delta", at.merging(["delta": arguments]) { $1 })
                emit("response.function_call_arguments.done", at.merging(["arguments": arguments]) { $1 })
            }
            emit("response.output_item.done", ["output_index": output, "item": item])
        }
        // A response cut by max_output_tokens ends as OpenAI ends it: `response.incomplete`.
        let final = response["status"]?.stringValue == "incomplete" ? "response.incomplete" : "response.completed"
        emit(final, ["response": response])
        return out
    }

    /// The text in pieces of about four words, spaces kept, so that a replay streams like an answer.
    static func pieces(of text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var words = 0
        for ch in text {
            current.append(ch)
            if ch == " " {
                words += 1
                if words == 4 {
                    out.append(current)
                    current = ""
                    words = 0
                }
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
