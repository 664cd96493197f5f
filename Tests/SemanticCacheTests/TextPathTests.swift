import Embedding
import SemanticCache
import TestSupport
import Testing
import VectorIndex

/// Every text function that runs on each request has a fast path for ASCII and a general one for
/// the rest of Unicode. They must agree, or a prompt would hit or miss depending on whether an
/// unrelated character elsewhere in it is ASCII. A no-break space (U+00A0) is white space that
/// NFKC turns into a plain space: appended to an ASCII prompt it sends the prompt down the general
/// path without changing what it says, so both paths must give the same answer.
@Suite("ASCII fast paths against the Unicode paths")
struct TextPathTests {
    static let words = [
        "how", "do", "I", "reset", "my", "Password", "iOS", "GPT4", "gpt-4", "don't", "isn't", "rock'n'roll",
        "3,000", "2.50", "1.", "007", "2,5", "v1.2.3", "two", "not", "never", "on", "off", "Paris", "London",
        "$Apple", "(Kyoto)", "\"quoted\"", "e-mail", "C++", "a_b", "x/y", "'s", "O'Brien", "USA", "the", "of",
    ]
    static let marks = ["", "", "", "?", "!", ".", ",", ":", "...", " ?", " .", "?!", ";", "'"]
    static let gaps = [" ", " ", " ", "  ", "\t", "\n", " \r\n "]

    /// Seeded random prompts of the words above, with punctuation and white space between them.
    static func prompts(count: Int) -> [String] {
        var rng = SplitMix64(seed: 1130)
        return (0..<count).map { _ in
            var text = Bool.random(using: &rng) ? "" : gaps.randomElement(using: &rng)!
            for i in 0..<Int.random(in: 1...9, using: &rng) {
                if i > 0 { text += gaps.randomElement(using: &rng)! }
                text += words.randomElement(using: &rng)! + marks.randomElement(using: &rng)!
            }
            return text + (Bool.random(using: &rng) ? "" : gaps.randomElement(using: &rng)!)
        }
    }

    @Test("the exact-match key")
    func exactKey() {
        for text in Self.prompts(count: 3_000) {
            #expect(CacheRequest.normalizeForExactMatch(text + "\u{A0}") == CacheRequest.normalizeForExactMatch(text),
                    "\(text.debugDescription)")
        }
    }

    @Test("words, and the hashing embedder's vector")
    func words() {
        let embedder = try! HashingEmbedder()
        for text in Self.prompts(count: 3_000) {
            #expect(NormalizedText(text + "\u{A0}").wordStrings == NormalizedText(text).wordStrings, "\(text.debugDescription)")
            #expect(embedder.vector(for: text + "\u{A0}") == embedder.vector(for: text), "\(text.debugDescription)")
        }
    }

    @Test("what the false-positive guard compares: numbers, negation, content words, names")
    func guardFeatures() {
        for text in Self.prompts(count: 3_000) {
            #expect(PromptFeatures(text + "\u{A0}") == PromptFeatures(text), "\(text.debugDescription)")
        }
    }

    @Test("random Unicode: finite vectors of length 1 or 0, the guard's features and the exact key, the same every time")
    func randomUnicode() throws {
        let embedder = try HashingEmbedder()
        var rng = SplitMix64(seed: 30)
        var empty = 0
        for _ in 0..<3_000 {
            let text = RandomText.string(&rng)
            let vector = embedder.vector(for: text)
            #expect(vector.count == embedder.dimension && vector.allSatisfy(\.isFinite), "\(text.debugDescription)")
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-4 || norm == 0, "\(text.debugDescription): \(norm)")
            if norm == 0 { empty += 1 }
            #expect(embedder.vector(for: text) == vector)
            #expect(PromptFeatures(text) == PromptFeatures(text))
            #expect(CacheRequest.normalizeForExactMatch(text) == CacheRequest.normalizeForExactMatch(text))
        }
        #expect(empty < 300, "most random texts have words")
    }
}
