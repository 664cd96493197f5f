import Embedding
import Foundation
import Testing
import TestSupport
import VectorIndex

@Suite("WordPieceTokenizer")
struct WordPieceTokenizerTests {
    /// A small vocabulary that makes each rule visible.
    let small = try! WordPieceTokenizer(vocabulary: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", ",", "!", "cafe", "naive",
        "東", "京", "a", "##b", "x",
    ], maxTokens: 8)

    func ids(_ words: [String], _ t: WordPieceTokenizer) -> [Int32] { words.map { t.encode($0)[1] } }

    @Test("basic tokenisation: lower-case, strip accents, split punctuation, CJK, drop controls")
    func basic() {
        #expect(small.basicTokens("Hello, World!") == ["hello", ",", "world", "!"])
        #expect(small.basicTokens("Café NAÏVE résumé") == ["cafe", "naive", "resume"])
        #expect(small.basicTokens("東京は") == ["東", "京", "は"])
        #expect(small.basicTokens("a\u{0}b\u{7}c\u{200B}d") == ["abcd"], "NUL, BEL and ZERO WIDTH SPACE (Cf) are dropped")
        #expect(small.basicTokens("tabs\tand\nnew\r\nlines\u{3000}ideographic space") == ["tabs", "and", "new", "lines", "ideographic", "space"])
        #expect(small.basicTokens("x+y=$5^2") == ["x", "+", "y", "=", "$", "5", "^", "2"], "ASCII symbols count as punctuation")
        #expect(small.basicTokens("¿Dónde?") == ["¿", "donde", "?"])
        #expect(small.basicTokens("") == [])
        #expect(small.basicTokens("   ") == [])
    }

    @Test("random Unicode: [CLS] first, [SEP] last, at most max tokens, every id in the vocabulary")
    func randomUnicode() {
        var rng = SplitMix64(seed: 31)
        for _ in 0..<3_000 {
            let text = RandomText.string(&rng)
            let ids = small.encode(text)
            #expect(ids.first == 2 && ids.last == 3 && ids.count <= 8, "\(text.debugDescription): \(ids)")
            #expect(ids.allSatisfy { (0..<17).contains($0) }, "\(text.debugDescription): \(ids)")
        }
    }

    @Test("WordPiece: greedy longest match with ## continuations; an unsplittable word is [UNK]")
    func wordPiece() {
        #expect(small.encode("unaffable") == [2, 4, 5, 6, 3])
        #expect(small.encode("Hello, unaffable!") == [2, 7, 8, 4, 5, 6, 9, 3])
        #expect(small.encode("unaffablex") == [2, 1, 3], "no ##x: the whole word is [UNK], not a partial split")
        #expect(small.encode("abbb") == [2, 14, 15, 15, 15, 3])
        #expect(small.encode("🙂") == [2, 1, 3])
        #expect(small.encode("") == [2, 3])
        #expect(small.encode(String(repeating: "a", count: 101)) == [2, 1, 3], "words over 100 characters are [UNK]")
    }

    @Test("output is cut to maxTokens with [SEP] last")
    func truncation() {
        let ids = small.encode("x x x x x x x x x x x x")
        #expect(ids.count == 8)
        #expect(ids.first == 2 && ids.last == 3)
        let split = small.encode("x x x x x abbbbbbb")
        #expect(split == [2, 16, 16, 16, 16, 16, 14, 3], "a word's pieces are cut too")
        let huge = String(repeating: "x abbb, ", count: 500_000)
        #expect(small.encode(huge) == small.encode(String(huge.prefix(64))), "a 4 MB text is cut like its start")
    }

    @Test("a vocabulary without [UNK], [CLS] or [SEP] is refused")
    func specials() {
        #expect(throws: EmbeddingError.self) { try WordPieceTokenizer(vocabulary: ["[CLS]", "[SEP]", "a"]) }
    }

    /// The real vocabulary against the reference token ids of an independent implementation:
    /// accents, punctuation, CJK, emoji, empty text, whitespace, code, and texts cut at 256.
    @Test("all-MiniLM-L6-v2 token ids match the reference for every text")
    func reference() throws {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)); return }
        let tokenizer = try WordPieceTokenizer(vocabularyPath: MiniLMModel.folder + "/vocab.txt")
        let references = try MiniLMModel.references()
        #expect(references.count == 30)
        var compared = 0
        for r in references {
            guard let expected = r.token_ids else { continue }
            #expect(tokenizer.encode(r.text) == expected, "\(r.text.prefix(60))")
            compared += 1
        }
        #expect(compared >= 25)
        #expect(tokenizer.encode("How do I reset my password?") == [101, 2129, 2079, 1045, 25141, 2026, 20786, 1029, 102])
        let long = tokenizer.encode(String(repeating: "word ", count: 400))
        #expect(long.count == 256 && long.last == 102)
    }
}
