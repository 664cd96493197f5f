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
        estimatedTokens(words: wordCount(text))
    }

    /// The estimate for `words` words: words × 4/3, at least 1.
    static func estimatedTokens(words: Int) -> Int {
        max(1, words * 4 / 3)
    }

    /// The words of `text` separated by Unicode white space, read off its UTF-8 bytes. Every
    /// forwarded request counts its prompt's words (budgets, quotas, usage of answers without
    /// it); splitting into `Character`s (`split(whereSeparator: \.isWhitespace)`) cost a Unicode
    /// property lookup per character, about a tenth of a forwarded request's CPU. The counts
    /// are the same except for a combining mark straight after a space, which a `Character`
    /// joins to the space and this counts as a word: rare text, and an estimate either way.
    public static func wordCount(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            var words = 0
            var inWord = false
            var i = 0
            let n = bytes.count
            while i < n {
                let width = whiteSpaceWidth(bytes, at: i)
                if width > 0 {
                    inWord = false
                    i += width
                } else {
                    if !inWord { words += 1 }
                    inWord = true
                    i += 1
                }
            }
            return words
        }
    }

    /// The length in bytes of the white-space character starting at `i`, else 0: ASCII's tab to
    /// carriage return and space, and the other Unicode `White_Space` characters (U+0085,
    /// U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
    @inline(__always)
    private static func whiteSpaceWidth(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b = bytes[i]
        if b < 0x80 { return b == 0x20 || (0x09...0x0D).contains(b) ? 1 : 0 }
        let n = bytes.count
        switch b {
        case 0xC2:
            guard i + 1 < n else { return 0 }
            return bytes[i + 1] == 0x85 || bytes[i + 1] == 0xA0 ? 2 : 0
        case 0xE1, 0xE2, 0xE3:
            guard i + 2 < n else { return 0 }
            let (b1, b2) = (bytes[i + 1], bytes[i + 2])
            switch (b, b1) {
            case (0xE1, 0x9A): return b2 == 0x80 ? 3 : 0
            case (0xE2, 0x80): return (0x80...0x8A).contains(b2) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF ? 3 : 0
            case (0xE2, 0x81): return b2 == 0x9F ? 3 : 0
            case (0xE3, 0x80): return b2 == 0x80 ? 3 : 0
            default: return 0
            }
        default:
            return 0
        }
    }
}
