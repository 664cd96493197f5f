import DejaSupport

extension DataGuard {
    /// Keys under which OpenAI bodies (requests, answers and stream events of the three cached
    /// APIs) hold text a person wrote or will read; everything else (roles, ids, images, audio,
    /// parameters) is left alone.
    static let textKeys: Set<String> = [
        "messages", "prompt", "input", "instructions", "content", "text", "arguments", "output", "tool_calls", "function",
        "choices", "message", "output_text", "refusal", "delta", "summary", "response", "item", "part",
    ]

    /// `value` with the text under ``textKeys`` screened; `nil` when nothing changes.
    /// - Throws: 400 when a detector that blocks in this direction finds something.
    func screen(_ value: JSONValue, _ direction: GuardDirection, model: String, _ redactions: inout Redactions) throws(OpenAIError)
        -> JSONValue?
    {
        var local = redactions
        defer { redactions = local }
        return try Self.mapTexts(value) { (text) throws(OpenAIError) in try screen(text, direction, model: model, &local) }
    }

    /// `value` with `transform` applied to every string under ``textKeys``; `nil` when it changes none.
    static func mapTexts<E: Error>(_ value: JSONValue, _ transform: (String) throws(E) -> String?) throws(E) -> JSONValue? {
        switch value {
        case .object(let fields):
            var changed: [String: JSONValue]?
            for (key, field) in fields where textKeys.contains(key) {
                let replaced: JSONValue?
                if case .string(let s) = field {
                    replaced = try transform(s).map(JSONValue.string)
                } else {
                    replaced = try mapTexts(field, transform)
                }
                if let replaced {
                    if changed == nil { changed = fields }
                    changed![key] = replaced
                }
            }
            return changed.map(JSONValue.object)
        case .array(let items):
            var changed: [JSONValue]?
            for (i, item) in items.enumerated() {
                let replaced: JSONValue?
                if case .string(let s) = item {
                    replaced = try transform(s).map(JSONValue.string)
                } else {
                    replaced = try mapTexts(item, transform)
                }
                if let replaced {
                    if changed == nil { changed = items }
                    changed![i] = replaced
                }
            }
            return changed.map(JSONValue.array)
        default:
            return nil
        }
    }
}
