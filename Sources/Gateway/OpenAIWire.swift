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

    /// The text of the first choice of a chat or text completion, if it has one.
    public static func firstText(_ response: JSONValue) -> String? {
        guard let choice = response["choices"]?.arrayValue?.first else { return nil }
        return choice["message"]?["content"]?.stringValue ?? choice["text"]?.stringValue
    }

    /// A rough token count (words × 4/3) for entries whose usage is unknown.
    public static func estimatedTokens(_ text: String) -> Int {
        max(1, text.split(whereSeparator: \.isWhitespace).count * 4 / 3)
    }
}
