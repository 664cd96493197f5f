/// The parameters of a ``HashingEmbedder``. Every field is part of the embedder's identity.
public struct HashingEmbedderConfiguration: Codable, Sendable, Equatable {
    /// Buckets, i.e. the vector length.
    public var dimension: Int
    /// Weight of each word.
    public var unigramWeight: Float
    /// Weight of each pair of neighbouring words (word order).
    public var bigramWeight: Float
    /// Weight of a word's character n-grams, shared among them (spelling variants, inflections).
    public var charNgramWeight: Float
    /// Character n-gram sizes, taken from the word padded with `<` and `>`.
    public var charNgramSizes: [Int]
    /// Optional file of per-word weights (`word<TAB>weight` per line, `#` comments), read on top of
    /// the built-in down-weighting of English function words. Relative paths are resolved against
    /// the configuration file's folder.
    public var tokenWeightsFile: String?

    public init(
        dimension: Int = 384, unigramWeight: Float = 1.0, bigramWeight: Float = 1.0, charNgramWeight: Float = 0.5,
        charNgramSizes: [Int] = [3, 4], tokenWeightsFile: String? = nil
    ) {
        self.dimension = dimension
        self.unigramWeight = unigramWeight
        self.bigramWeight = bigramWeight
        self.charNgramWeight = charNgramWeight
        self.charNgramSizes = charNgramSizes
        self.tokenWeightsFile = tokenWeightsFile
    }

    enum CodingKeys: String, CodingKey {
        case dimension
        case unigramWeight = "unigram_weight"
        case bigramWeight = "bigram_weight"
        case charNgramWeight = "char_ngram_weight"
        case charNgramSizes = "char_ngram_sizes"
        case tokenWeightsFile = "token_weights"
    }

    public init(from decoder: any Decoder) throws {
        let d = HashingEmbedderConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dimension = try c.decodeIfPresent(Int.self, forKey: .dimension) ?? d.dimension
        unigramWeight = try c.decodeIfPresent(Float.self, forKey: .unigramWeight) ?? d.unigramWeight
        bigramWeight = try c.decodeIfPresent(Float.self, forKey: .bigramWeight) ?? d.bigramWeight
        charNgramWeight = try c.decodeIfPresent(Float.self, forKey: .charNgramWeight) ?? d.charNgramWeight
        charNgramSizes = try c.decodeIfPresent([Int].self, forKey: .charNgramSizes) ?? d.charNgramSizes
        tokenWeightsFile = try c.decodeIfPresent(String.self, forKey: .tokenWeightsFile)
    }

    /// Every problem, as `field: message`; empty when usable.
    public var problems: [String] {
        var out: [String] = []
        if !(8...65_536).contains(dimension) { out.append("dimension: must be between 8 and 65536, got \(dimension)") }
        for (name, w) in [("unigram_weight", unigramWeight), ("bigram_weight", bigramWeight),
                          ("char_ngram_weight", charNgramWeight)] where !(w >= 0 && w <= 100) {
            out.append("\(name): must be between 0 and 100, got \(w)")
        }
        if unigramWeight + bigramWeight + charNgramWeight <= 0 {
            out.append("unigram_weight, bigram_weight, char_ngram_weight: at least one must be positive")
        }
        for n in charNgramSizes where !(2...8).contains(n) {
            out.append("char_ngram_sizes: each size must be between 2 and 8, got \(n)")
        }
        return out
    }
}
