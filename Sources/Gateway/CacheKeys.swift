public import DejaSupport
public import SemanticCache

/// How an OpenAI request becomes a ``CacheRequest``: which fields make the namespace and which
/// text is embedded.
///
/// For `POST /v1/chat/completions`:
/// - the prompt is the text of the last message when it is a user message whose content is a
///   string or a list of text parts; a request that ends otherwise (a tool result, an image) has
///   no prompt and can only hit exactly;
/// - the namespace holds the tenant, the model, the `x-deja-namespace` partition, every earlier
///   message (system prompt, earlier turns, tool calls, exactly as sent), and every other field of
///   the body (temperature, top_p, max_tokens, tools, tool_choice, response_format, seed, n,
///   stop, logit_bias, ...), except those that do not change the answer: `stream`,
///   `stream_options`, `user`, `metadata`, `store` and `service_tier`.
///
/// Unknown fields are included, so a parameter Deja does not know yet keeps requests apart
/// rather than merging them. `POST /v1/completions` works the same way with `prompt` as the text.
///
/// For `POST /v1/responses`: the prompt is `input` when it is a string, or the text of its last
/// item when that is a user message (content a string or `input_text` parts); the earlier items,
/// `instructions`, `previous_response_id` (the earlier turns, which the provider holds), and
/// every other field but the ignored ones, make the namespace; so does `store: false`, whose
/// answers carry an id that cannot be continued from.
public enum CacheKeys {
    /// Body fields that never change the answer: how it is delivered (`stream`,
    /// `stream_options`), who asked (`user`, `safety_identifier`), bookkeeping (`metadata`,
    /// `store`), the provider's own prompt caching (`prompt_cache_key`) and `service_tier`.
    public static let ignoredFields: Set<String> = [
        "stream", "stream_options", "user", "safety_identifier", "metadata", "store", "service_tier", "prompt_cache_key",
    ]

    /// What is wrong with `raw` as a partition name (`x-deja-namespace`, the lookup API's and
    /// `deja cache import`'s `namespace`), or `nil`: 1 to 128 of A-Z a-z 0-9 . _ : -. One rule
    /// for all three, so that an entry stored by one is one the others can reach.
    public static func partitionProblem(_ raw: String) -> String? {
        let allowed = raw.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._:-".unicodeScalars.contains($0)
        }
        return (1...128).contains(raw.count) && allowed ? nil : "must be 1 to 128 of A-Z a-z 0-9 . _ : -, got '\(raw)'"
    }

    /// The cache request of a chat completion body.
    public static func chat(_ body: JSONValue, tenant: String, partition: String?) -> CacheRequest {
        let model = body["model"]?.stringValue ?? ""
        var messages = body["messages"]?.arrayValue ?? []
        var prompt: String?
        if let last = messages.last, last["role"]?.stringValue == "user", let text = userText(last, partType: "text") {
            prompt = text
            messages.removeLast()
        }
        var parameters = body.objectValue ?? [:]
        for field in ignoredFields.union(["model", "messages"]) { parameters.removeValue(forKey: field) }
        let context: JSONValue = ["api": "chat", "messages": .array(messages), "parameters": .object(parameters)]
        return CacheRequest(tenant: tenant, model: model, partition: partition, context: context, prompt: prompt)
    }

    /// The cache request of a legacy text completion body (`prompt` a string).
    public static func completion(_ body: JSONValue, tenant: String, partition: String?) -> CacheRequest {
        let model = body["model"]?.stringValue ?? ""
        var parameters = body.objectValue ?? [:]
        for field in ignoredFields.union(["model", "prompt"]) { parameters.removeValue(forKey: field) }
        let context: JSONValue = ["api": "completions", "parameters": .object(parameters)]
        return CacheRequest(
            tenant: tenant, model: model, partition: partition, context: context, prompt: body["prompt"]?.stringValue)
    }

    /// The cache request of a Responses API body.
    public static func responses(_ body: JSONValue, tenant: String, partition: String?) -> CacheRequest {
        let model = body["model"]?.stringValue ?? ""
        var prompt: String?
        var items: JSONValue = body["input"] ?? .null
        if let text = body["input"]?.stringValue {
            // A string is one user message: the same request as a list holding just that message.
            prompt = text
            items = []
        } else if var list = body["input"]?.arrayValue, let last = list.last,
                  last["role"]?.stringValue == "user", (last["type"]?.stringValue ?? "message") == "message",
                  let text = userText(last, partType: "input_text")
        {
            prompt = text
            list.removeLast()
            items = .array(list)
        }
        var parameters = body.objectValue ?? [:]
        for field in ignoredFields.union(["model", "input"]) { parameters.removeValue(forKey: field) }
        // A response made with `store: false` has an id the provider does not know: served to a
        // request that stores (the default), its id would break a later `previous_response_id`.
        if body["store"]?.boolValue == false { parameters["store"] = false }
        let context: JSONValue = ["api": "responses", "input": items, "parameters": .object(parameters)]
        return CacheRequest(tenant: tenant, model: model, partition: partition, context: context, prompt: prompt)
    }

    /// The chat body a plain prompt stands for: what a client sends to ask `prompt` of `model`
    /// with an optional system prompt and no other parameters. Entries inserted through the
    /// lookup API or `deja cache import` use it, so that such requests hit them.
    public static func plainChatBody(model: String, prompt: String, system: String?) -> JSONValue {
        var messages: [JSONValue] = []
        if let system { messages.append(["role": "system", "content": .string(system)]) }
        messages.append(["role": "user", "content": .string(prompt)])
        return ["model": .string(model), "messages": .array(messages)]
    }

    /// The text of a user message: its content string, or its text parts (of `partType`: `text`
    /// in chat, `input_text` in the Responses API) joined by newlines; `nil` when it holds
    /// anything but text.
    static func userText(_ message: JSONValue, partType: String) -> String? {
        switch message["content"] {
        case .string(let s)?:
            return s
        case .array(let parts)?:
            var texts: [String] = []
            for part in parts {
                guard part["type"]?.stringValue == partType, let text = part["text"]?.stringValue else { return nil }
                texts.append(text)
            }
            return texts.isEmpty ? nil : texts.joined(separator: "\n")
        default:
            return nil
        }
    }
}
