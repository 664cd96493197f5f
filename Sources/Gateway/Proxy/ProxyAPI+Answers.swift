import DejaSupport

extension ProxyAPI {
    /// Whether `answer` is an answer of this API at all (a response object, or choices), as
    /// opposed to something a broken provider sent.
    func isAnswer(_ answer: JSONValue) -> Bool {
        self == .responses ? answer["object"]?.stringValue == "response" : answer["choices"]?.arrayValue != nil
    }

    /// A complete, successful answer: the right object, and every choice finished normally
    /// (`stop`, `length` with something said, `tool_calls` or `function_call`; never
    /// `content_filter` or none); for the Responses API, `status: completed`, or `incomplete`
    /// by `max_output_tokens` with something said (never `failed`, a content filter or still
    /// running).
    func isCompleteAnswer(_ answer: JSONValue) -> Bool {
        if self == .responses {
            guard answer["object"]?.stringValue == "response" else { return false }
            switch answer["status"]?.stringValue {
            case "completed":
                return true
            case "incomplete":
                // Cut by max_output_tokens, like chat's `length`: kept when it said something.
                let said = !(OpenAIWire.firstText(answer) ?? "").isEmpty
                    || answer["output"]?.arrayValue?.contains { $0["type"]?.stringValue == "function_call" } == true
                return answer["incomplete_details"]?["reason"]?.stringValue == "max_output_tokens" && said
            default:
                return false
            }
        }
        guard answer["object"]?.stringValue == object, let choices = answer["choices"]?.arrayValue, !choices.isEmpty else {
            return false
        }
        let finished: Set<String> = ["stop", "length", "tool_calls", "function_call"]
        return choices.allSatisfy { choice in
            guard let reason = choice["finish_reason"]?.stringValue, finished.contains(reason) else { return false }
            // A call that ended the answer must be in it: without it a replay would be an answer
            // that asks for nothing and says nothing.
            if reason == "tool_calls" { return choice["message"]?["tool_calls"]?.arrayValue?.isEmpty == false }
            if reason == "function_call" { return choice["message"]?["function_call"]?["name"]?.stringValue?.isEmpty == false }
            // Cut off by the token limit before it said anything (a reasoning model that spent
            // the limit thinking): not an answer to serve again, where a retry might get one.
            if reason == "length" {
                let message = choice["message"]
                let text = message?["content"]?.stringValue ?? choice["text"]?.stringValue ?? ""
                return !text.isEmpty || message?["tool_calls"]?.arrayValue?.isEmpty == false
            }
            return true
        }
    }

    /// A Responses API request whose call does more at the provider than answer: a background
    /// response is collected later by its id (there is no answer to store now), and a request in
    /// a `conversation` appends its turn to that conversation, which a hit would silently skip.
    static func hasProviderSideEffects(_ body: JSONValue) -> Bool {
        body["background"]?.boolValue == true || (body["conversation"].map { !$0.isNull } ?? false)
    }

    /// A rough token count of a request's text, for answers that do not report usage.
    static func estimatedPromptTokens(_ body: JSONValue) -> Int {
        if let prompt = body["prompt"]?.stringValue ?? body["input"]?.stringValue { return OpenAIWire.estimatedTokens(prompt) }
        // The texts' words added up: what counting them joined by spaces would give.
        var words = 0
        for message in body["messages"]?.arrayValue ?? body["input"]?.arrayValue ?? [] {
            if let text = message["content"]?.stringValue {
                words += OpenAIWire.wordCount(text)
            } else {
                for part in message["content"]?.arrayValue ?? [] {
                    if let text = part["text"]?.stringValue { words += OpenAIWire.wordCount(text) }
                }
            }
        }
        return OpenAIWire.estimatedTokens(words: words)
    }
}
