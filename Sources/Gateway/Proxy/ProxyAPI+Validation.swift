import DejaSupport

extension ProxyAPI {
    /// The checks that give a clear 400 before anything is forwarded.
    func validate(_ body: JSONValue) throws(OpenAIError) {
        guard let model = body["model"] else { throw .invalidRequest("You must provide a model parameter", param: "model") }
        guard let name = model.stringValue, !name.isEmpty else {
            let got = model.stringValue == nil ? model.typeName : "an empty string"
            throw .invalidRequest("'model' must be a non-empty string, got \(got)", param: "model")
        }
        if let stream = body["stream"], stream.boolValue == nil, !stream.isNull {
            throw .invalidRequest("'stream' must be true or false, got \(stream.typeName)", param: "stream")
        }
        if let n = body["n"], !n.isNull, (n.intValue ?? 0) < 1 {
            throw .invalidRequest("'n' must be a whole number of at least 1", param: "n")
        }
        switch self {
        case .chat:
            guard let messages = body["messages"] else {
                throw .invalidRequest("Missing required parameter: 'messages'", param: "messages")
            }
            guard let list = messages.arrayValue else {
                throw .invalidRequest("'messages' must be an array, got \(messages.typeName)", param: "messages")
            }
            guard !list.isEmpty else { throw .invalidRequest("'messages' must not be empty", param: "messages") }
            let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]
            for (i, message) in list.enumerated() {
                guard case .object = message else {
                    throw .invalidRequest("'messages[\(i)]' must be an object, got \(message.typeName)", param: "messages[\(i)]")
                }
                guard let role = message["role"]?.stringValue, roles.contains(role) else {
                    throw .invalidRequest("'messages[\(i)].role' must be one of \(roles.sorted().joined(separator: ", "))",
                                          param: "messages[\(i)].role")
                }
            }
        case .responses:
            if let input = body["input"], input.stringValue == nil, input.arrayValue == nil {
                throw .invalidRequest("'input' must be a string or an array, got \(input.typeName)", param: "input")
            }
        case .completions:
            guard let prompt = body["prompt"] else { throw .invalidRequest("Missing required parameter: 'prompt'", param: "prompt") }
            guard prompt.stringValue != nil || prompt.arrayValue != nil else {
                throw .invalidRequest("'prompt' must be a string or an array, got \(prompt.typeName)", param: "prompt")
            }
        }
    }
}
