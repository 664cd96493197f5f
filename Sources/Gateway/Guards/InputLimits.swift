import DejaSupport

/// Limits on what one request may ask (`guards.limits`), each refused with a 400 that names the
/// limit, before anything is looked up or forwarded. 0 means no limit. The body's size is
/// `server.max_body_bytes`; text that is not UTF-8 never gets this far (the JSON parser refuses it).
public struct InputLimits: Codable, Sendable, Equatable {
    /// Messages of a chat completion, or input items of a Responses API request.
    public var maxMessages: Int
    /// Characters (Unicode scalars) of one message's text.
    public var maxMessageChars: Int
    /// Characters of all the request's text together.
    public var maxTotalChars: Int
    /// The largest `max_tokens` (`max_completion_tokens`, `max_output_tokens`) a request may ask for.
    public var maxTokens: Int
    /// Tools (and legacy functions) a request may offer the model.
    public var maxTools: Int

    public init(maxMessages: Int = 0, maxMessageChars: Int = 0, maxTotalChars: Int = 0, maxTokens: Int = 0, maxTools: Int = 0) {
        self.maxMessages = maxMessages
        self.maxMessageChars = maxMessageChars
        self.maxTotalChars = maxTotalChars
        self.maxTokens = maxTokens
        self.maxTools = maxTools
    }

    enum CodingKeys: String, CodingKey {
        case maxMessages = "max_messages", maxMessageChars = "max_message_chars", maxTotalChars = "max_total_chars"
        case maxTokens = "max_tokens", maxTools = "max_tools"
    }

    public init(from decoder: any Decoder) throws {
        let d = InputLimits()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxMessages = try c.decodeIfPresent(Int.self, forKey: .maxMessages) ?? d.maxMessages
        maxMessageChars = try c.decodeIfPresent(Int.self, forKey: .maxMessageChars) ?? d.maxMessageChars
        maxTotalChars = try c.decodeIfPresent(Int.self, forKey: .maxTotalChars) ?? d.maxTotalChars
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        maxTools = try c.decodeIfPresent(Int.self, forKey: .maxTools) ?? d.maxTools
    }

    var isOff: Bool {
        maxMessages == 0 && maxMessageChars == 0 && maxTotalChars == 0 && maxTokens == 0 && maxTools == 0
    }

    var problems: [String] {
        let fields = [
            ("max_messages", maxMessages), ("max_message_chars", maxMessageChars), ("max_total_chars", maxTotalChars),
            ("max_tokens", maxTokens), ("max_tools", maxTools),
        ]
        return fields.filter { $0.1 < 0 }.map { "guards.limits.\($0.0): must be 0 (no limit) or more, got \($0.1)" }
    }

    /// - Throws: 400 naming the limit a request goes over.
    func check(_ body: JSONValue) throws(OpenAIError) {
        guard !isOff else { return }
        let messages = body["messages"]?.arrayValue ?? body["input"]?.arrayValue
        if maxMessages > 0, let messages, messages.count > maxMessages {
            throw Self.refusal("The request has \(messages.count) messages; this gateway takes at most \(maxMessages)",
                               param: body["messages"] != nil ? "messages" : "input", code: "too_many_messages")
        }
        if maxTools > 0 {
            let tools = (body["tools"]?.arrayValue?.count ?? 0) + (body["functions"]?.arrayValue?.count ?? 0)
            if tools > maxTools {
                throw Self.refusal("The request offers \(tools) tools; this gateway takes at most \(maxTools)", param: "tools",
                                   code: "too_many_tools")
            }
        }
        if maxTokens > 0 {
            for field in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
                if let n = body[field]?.intValue, n > maxTokens {
                    throw Self.refusal("'\(field)' is \(n); this gateway allows at most \(maxTokens)", param: field,
                                       code: "max_tokens_too_large")
                }
            }
        }
        guard maxMessageChars > 0 || maxTotalChars > 0 else { return }
        var total = 0
        func count(_ text: String, at param: String) throws(OpenAIError) {
            let n = text.unicodeScalars.count
            if maxMessageChars > 0 && n > maxMessageChars {
                throw Self.refusal("'\(param)' has \(n) characters; this gateway takes at most \(maxMessageChars) per message",
                                   param: param, code: "message_too_long")
            }
            total += n
        }
        if let messages {
            for (i, message) in messages.enumerated() {
                let param = "\(body["messages"] != nil ? "messages" : "input")[\(i)]"
                if let text = message.stringValue { try count(text, at: param) }
                try count(Self.text(of: message["content"]), at: param)
            }
        }
        for field in ["prompt", "input", "instructions"] {
            if let text = body[field]?.stringValue { try count(text, at: field) }
            if field == "prompt", let prompts = body[field]?.arrayValue {
                for (i, p) in prompts.enumerated() { try count(p.stringValue ?? "", at: "prompt[\(i)]") }
            }
        }
        if maxTotalChars > 0 && total > maxTotalChars {
            throw Self.refusal("The request's text has \(total) characters; this gateway takes at most \(maxTotalChars)",
                               param: nil, code: "input_too_long")
        }
    }

    /// The text of a message's `content`: a string, or the text of its parts.
    static func text(of content: JSONValue?) -> String {
        if let s = content?.stringValue { return s }
        return (content?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: " ")
    }

    static func refusal(_ message: String, param: String?, code: String) -> OpenAIError {
        OpenAIError.invalidRequest(message + " (guards.limits)", param: param, code: code)
    }
}
