public import DejaSupport
public import Foundation
public import SemanticCache

/// Building and reading OpenAI wire objects.
public enum OpenAIWire {
    /// A `chat.completion` with one assistant message: what Deja stores for an entry inserted
    /// from plain text (the lookup API, `deja cache import`).
    public static func chatCompletion(
        id: String, model: String, content: String, created: Date, promptTokens: Int, completionTokens: Int
    ) -> JSONValue {
        [
            "id": .string(id), "object": "chat.completion", "created": .int(Int64(created.timeIntervalSince1970)),
            "model": .string(model),
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(content)],
                         "finish_reason": "stop", "logprobs": .null]],
            "usage": ["prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
                      "total_tokens": .int(Int64(promptTokens + completionTokens))],
        ]
    }

    /// The text of the first choice of a chat or text completion, or the output text of a
    /// Responses API `response`, if it has one.
    public static func firstText(_ response: JSONValue) -> String? {
        if response["object"]?.stringValue == "response" {
            let texts = (response["output"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "message" }
                .flatMap { $0["content"]?.arrayValue ?? [] }
                .compactMap { $0["type"]?.stringValue == "output_text" ? $0["text"]?.stringValue : nil }
            return texts.isEmpty ? nil : texts.joined()
        }
        guard let choice = response["choices"]?.arrayValue?.first else { return nil }
        return choice["message"]?["content"]?.stringValue ?? choice["text"]?.stringValue
    }

    /// An answer's prompt and completion token counts: `usage.prompt_tokens` and
    /// `completion_tokens`, or the Responses API's `input_tokens` and `output_tokens`.
    public static func tokens(_ answer: JSONValue) -> (prompt: Int, completion: Int)? {
        guard let usage = answer["usage"], case .object = usage else { return nil }
        let prompt = usage["prompt_tokens"]?.intValue ?? usage["input_tokens"]?.intValue ?? 0
        let completion = usage["completion_tokens"]?.intValue ?? usage["output_tokens"]?.intValue ?? 0
        return (prompt, completion)
    }

    /// A rough token count (words × 4/3) for entries whose usage is unknown.
    public static func estimatedTokens(_ text: String) -> Int {
        max(1, text.split(whereSeparator: \.isWhitespace).count * 4 / 3)
    }
}
