import DejaSupport
import SemanticCache

/// Rebuilds the final response object from the chunks of an OpenAI stream (chat or legacy
/// completions), so that a streamed answer can be cached and replayed either way. A Responses
/// API stream needs no rebuilding: its `response.completed` event carries the whole response.
struct StreamAssembler {
    enum API { case chat, completions, responses }

    struct ToolCall {
        var id: JSONValue = .null
        var type: JSONValue = "function"
        var name = ""
        var arguments = ""
    }

    /// The delta fields of reasoning models that carry their thinking as text beside the answer:
    /// `reasoning_content` (DeepSeek, vLLM), `reasoning` (OpenRouter, Ollama).
    static let reasoningFields = ["reasoning_content", "reasoning"]

    struct Choice {
        var role = "assistant"
        var content = ""
        var hasContent = false
        var refusal: String?
        var reasoning: [String: String] = [:]
        var toolCalls: [Int: ToolCall] = [:]
        /// The deprecated `functions` API's single call.
        var functionCall: ToolCall?
        var finishReason: JSONValue = .null
    }

    let api: API
    private var id: JSONValue = .null
    private var created: JSONValue = .null
    private var model: JSONValue = .null
    private var fingerprint: JSONValue?
    private var choices: [Int: Choice] = [:]
    private var usage: JSONValue?
    /// False once a chunk could not be understood; such a stream is never cached.
    private(set) var valid = true
    /// The Responses API's final response.
    private var completed: JSONValue?
    /// A Responses API stream said how it ended (completed, failed, incomplete or an error), so
    /// Deja need not add that it broke off.
    private(set) var ended = false

    init(api: API) {
        self.api = api
    }

    mutating func add(_ chunk: JSONValue) {
        guard case .object = chunk else {
            valid = false
            return
        }
        if chunk["error"] != nil { valid = false }
        if api == .responses {
            switch chunk["type"]?.stringValue {
            case "response.completed", "response.incomplete":
                // The final response; whether an incomplete one is worth keeping is the
                // gateway's call, as for a plain answer.
                completed = chunk["response"]
                ended = true
            case "error", "response.failed":
                valid = false
                ended = true
            default:
                break
            }
            return
        }
        // The first real values: Azure OpenAI opens a stream with a chunk of prompt filter
        // results whose id and model are empty and whose `created` is 0.
        if id == .null, let v = chunk["id"], v.stringValue?.isEmpty == false { id = v }
        if created == .null, let v = chunk["created"], let seconds = v.intValue, seconds > 0 { created = v }
        if model == .null, let v = chunk["model"], v.stringValue?.isEmpty == false { model = v }
        if let v = chunk["system_fingerprint"], v != .null { fingerprint = v }
        if let u = chunk["usage"], u != .null { usage = u }
        for c in list(chunk["choices"]) {
            let index = c["index"]?.intValue ?? 0
            var choice = choices[index] ?? Choice()
            if api == .chat {
                let delta = object(c["delta"])
                if let role = text(delta["role"]) { choice.role = role }
                if let text = text(delta["content"]) {
                    choice.content += text
                    choice.hasContent = true
                }
                if let refusal = text(delta["refusal"]) { choice.refusal = (choice.refusal ?? "") + refusal }
                for field in Self.reasoningFields {
                    if let text = text(delta[field]) { choice.reasoning[field, default: ""] += text }
                }
                if let call = delta["function_call"], call != .null {
                    let call = object(call)
                    var f = choice.functionCall ?? ToolCall()
                    if let name = text(call["name"]) { f.name += name }
                    if let args = text(call["arguments"]) { f.arguments += args }
                    choice.functionCall = f
                }
                for call in list(delta["tool_calls"]) {
                    let i = call["index"]?.intValue ?? 0
                    var t = choice.toolCalls[i] ?? ToolCall()
                    if let v = call["id"], v != .null { t.id = v }
                    if let v = call["type"], v != .null { t.type = v }
                    let function = object(call["function"])
                    if let name = text(function["name"]) { t.name += name }
                    if let args = text(function["arguments"]) { t.arguments += args }
                    choice.toolCalls[i] = t
                }
            } else if let text = text(c["text"]) {
                choice.content += text
                choice.hasContent = true
            }
            if let f = c["finish_reason"], f != .null {
                if f.stringValue == nil { valid = false }
                choice.finishReason = f
            }
            choices[index] = choice
        }
    }

    /// The text a chunk's field holds, `nil` when it is absent or null. Anything else (a number
    /// where the answer's words should be) makes the stream invalid: assembled without it, the
    /// cached answer would lack a piece the client saw.
    private mutating func text(_ value: JSONValue?) -> String? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue else {
            valid = false
            return nil
        }
        return text
    }

    /// A chunk's object field, empty when absent or null; anything else makes the stream invalid.
    private mutating func object(_ value: JSONValue?) -> JSONValue {
        guard let value, value != .null else { return [:] }
        if value.objectValue == nil { valid = false }
        return value
    }

    /// The objects of a chunk's list field; a field that is not a list of objects makes the
    /// stream invalid.
    private mutating func list(_ value: JSONValue?) -> [JSONValue] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.objectValue != nil }) else {
            valid = false
            return []
        }
        return items
    }

    /// The final response object, or `nil` when the stream is not a complete answer (a choice
    /// without a finish reason, or a chunk that could not be read).
    func completion() -> JSONValue? {
        if api == .responses { return valid ? completed : nil }
        guard valid, !choices.isEmpty, choices.values.allSatisfy({ $0.finishReason != .null }) else { return nil }
        var list: [JSONValue] = []
        for index in choices.keys.sorted() {
            let c = choices[index]!
            if api == .chat {
                // A call without words has `content: null`, as in a plain answer, even when the
                // stream opened with `content: ""`.
                let calls = !c.toolCalls.isEmpty || c.functionCall != nil
                let content: JSONValue = c.hasContent && !(calls && c.content.isEmpty) ? .string(c.content) : .null
                var message: [String: JSONValue] = ["role": .string(c.role), "content": content]
                if let refusal = c.refusal { message["refusal"] = .string(refusal) }
                for (field, text) in c.reasoning { message[field] = .string(text) }
                if let f = c.functionCall {
                    message["function_call"] = ["name": .string(f.name), "arguments": .string(f.arguments)]
                }
                if !c.toolCalls.isEmpty {
                    message["tool_calls"] = .array(c.toolCalls.keys.sorted().map { i in
                        let t = c.toolCalls[i]!
                        return ["id": t.id, "type": t.type, "function": ["name": .string(t.name), "arguments": .string(t.arguments)]]
                    })
                }
                list.append(["index": .int(Int64(index)), "message": .object(message), "finish_reason": c.finishReason,
                             "logprobs": .null])
            } else {
                list.append(["index": .int(Int64(index)), "text": .string(c.content), "finish_reason": c.finishReason,
                             "logprobs": .null])
            }
        }
        var out: [String: JSONValue] = [
            "id": id, "object": api == .chat ? "chat.completion" : "text_completion", "created": created, "model": model,
            "choices": .array(list),
        ]
        if let fingerprint { out["system_fingerprint"] = fingerprint }
        if let usage { out["usage"] = usage }
        return .object(out)
    }
}
