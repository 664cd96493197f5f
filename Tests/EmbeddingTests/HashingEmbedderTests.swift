import Embedding
import Foundation
import Testing
import TestSupport

@Suite("HashingEmbedder")
struct HashingEmbedderTests {
    let embedder = try! HashingEmbedder()

    func cosine(_ a: String, _ b: String) -> Double {
        BruteForce.cosine(embedder.vector(for: a), embedder.vector(for: b))
    }

    @Test("FNV-1a 64 matches its published test vectors")
    func fnv() {
        #expect(FeatureHash.of("") == 0xCBF2_9CE4_8422_2325)
        #expect(FeatureHash.of("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(FeatureHash.of("foobar") == 0x8594_4171_F739_67E8)
    }

    /// The same text must give the same vector on every machine and in every run: these values
    /// were computed once and are fixed by the documented algorithm.
    @Test("vectors are deterministic and pinned")
    func pinned() {
        let v = embedder.vector(for: "How do I reset my password?")
        #expect(v.count == 384)
        var h = FeatureHash()
        for x in v { h.add(bytes: withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) }) }
        #expect(h.value == Self.pinnedHash, "vector hash \(String(h.value, radix: 16))")
        #expect(embedder.identity.hasPrefix("hashing-v1(dim=384,"))
    }
    static let pinnedHash: UInt64 = 0xA581_53A7_F2CC_A394

    @Test("vectors have unit length; a text without words maps to bucket 0")
    func unitLength() {
        for text in ["hello", "What is the capital of France?", "日本語のテキスト", "   "] {
            let v = embedder.vector(for: text)
            let norm = v.reduce(0) { $0 + Double($1) * Double($1) }
            #expect(abs(norm - 1) < 1e-5, "\(text)")
        }
        #expect(embedder.vector(for: "?!  ...")[0] == 1)
    }

    @Test("normalisation: case, NFKC width forms, apostrophes, punctuation")
    func normalisation() {
        #expect(cosine("Reset my PASSWORD", "reset my password") > 0.9999)
        #expect(cosine("ＲＥＳＥＴ ｐａｓｓｗｏｒｄ", "reset password") > 0.9999)
        #expect(cosine("don't stop", "dont stop") > 0.9999)
        #expect(cosine("reset, my password!!!", "reset my password") > 0.9999)
        #expect(NormalizedText("Don't turn OFF dark-mode!").wordStrings == ["dont", "turn", "off", "dark", "mode"])
        #expect(NormalizedText("東京タワー").wordStrings == ["東", "京", "タ", "ワ", "ー"])
        #expect(NormalizedText("Café naïve").wordStrings == ["café", "naïve"])
    }

    @Test("paraphrases score above unrelated questions")
    func similarity() {
        let paraphrase = cosine("How do I reset my password?", "How can I reset my password")
        let reordered = cosine("what is the capital of france", "france capital city")
        let unrelated = cosine("How do I reset my password?", "What is the boiling point of water?")
        #expect(paraphrase > 0.85)
        #expect(reordered > unrelated)
        #expect(unrelated < 0.3)
    }

    @Test("a token-weights file is read, and a bad line is reported with its number")
    func tokenWeights() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let good = dir.path("weights.tsv")
        try "# domain words\nkubernetes\t3\npod 2.5\n\n".write(toFile: good, atomically: true, encoding: .utf8)
        let weighted = try HashingEmbedder(tokenWeightsFile: good)
        #expect(weighted.identity != embedder.identity)
        #expect(weighted.tokenWeights.count == embedder.tokenWeights.count + 2)
        let bad = dir.path("bad.tsv")
        try "kubernetes\t3\nthis line is wrong\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: EmbeddingError.self) { try HashingEmbedder(tokenWeightsFile: bad) }
        do {
            _ = try HashingEmbedder(tokenWeightsFile: bad)
        } catch {
            #expect(error.description.contains("line 2"))
        }
        #expect(throws: EmbeddingError.self) { try HashingEmbedder(tokenWeightsFile: dir.path("missing.tsv")) }
        #expect(throws: EmbeddingError.self) { try HashingEmbedder(configuration: .init(dimension: 2)) }
    }
}
