@testable import Gateway
import DejaSupport
import VectorIndex
import Testing

@Suite("Token estimates from words")
struct TokenEstimateTests {
    /// What the estimate counted before it read bytes: `Character`s split at white space.
    static func referenceWords(_ text: String) -> Int {
        text.split(whereSeparator: \.isWhitespace).count
    }

    @Test("counts words as splitting at Unicode white space does, every White_Space character included")
    func wordsLikeSplit() {
        let spaces: [Unicode.Scalar] = [
            "\t", "\n", "\u{0B}", "\u{0C}", "\r", " ", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2005}", "\u{200A}",
            "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
        ]
        for space in spaces {
            let text = "one\(space)two\(space)\(space)three\(space)"
            #expect(OpenAIWire.wordCount(text) == 3, "U+\(String(space.value, radix: 16))")
        }
        // Neighbours of the white-space code points that are not white space.
        let notSpaces: [Unicode.Scalar] = ["\u{1C}", "\u{86}", "\u{A1}", "\u{1681}", "\u{200B}", "\u{2027}", "\u{202A}", "\u{205E}", "\u{3001}", "é", "😀"]
        for scalar in notSpaces {
            #expect(OpenAIWire.wordCount("a\(scalar)b c") == 2, "U+\(String(scalar.value, radix: 16))")
        }
        var generator = SplitMix64(seed: 7)
        let alphabet: [Unicode.Scalar] = spaces + notSpaces + ["a", "Z", "."]
        for _ in 0..<2_000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<24, using: &generator) { text.append(alphabet.randomElement(using: &generator)!) }
            let string = String(text)
            #expect(OpenAIWire.wordCount(string) == Self.referenceWords(string), "\(string.unicodeScalars.map { $0.value })")
        }
        // The one difference: a combining mark after a space joins it in a `Character`.
        #expect(Self.referenceWords("a \u{301} b") == 2)
        #expect(OpenAIWire.wordCount("a \u{301} b") == 3)
        #expect(OpenAIWire.wordCount("") == 0)
        #expect(OpenAIWire.estimatedTokens("") == 1)
        #expect(OpenAIWire.estimatedTokens("one two three four five six") == 8)
    }

    @Test("a request's prompt tokens come from all its messages' texts, parts included")
    func promptTokens() throws {
        let body = try JSONValue.parse(#"""
            {"model":"m","messages":[
              {"role":"system","content":"Answer briefly."},
              {"role":"user","content":[{"type":"text","text":"What is\u00a0the capital"},{"type":"image_url"},{"type":"text","text":"of France?"}]}
            ]}
            """#)
        // 2 + 4 + 2 words.
        #expect(ProxyAPI.estimatedPromptTokens(body) == 8 * 4 / 3)
        #expect(ProxyAPI.estimatedPromptTokens(try JSONValue.parse(#"{"model":"m","prompt":"one two three"}"#)) == 4)
    }
}
