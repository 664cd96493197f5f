import Foundation

/// A local, deterministic text embedder that needs no model download: signed feature hashing
/// of words, word pairs and character n-grams (Weinberger et al., "Feature hashing for large
/// scale multitask learning", ICML 2009).
///
/// ```swift
/// let embedder = try HashingEmbedder()
/// let v = embedder.vector(for: "How do I reset my password?")   // 384 floats, unit length
/// ```
///
/// The algorithm (version 1):
/// 1. Normalise with ``NormalizedText``: NFKC, lower case, words of letters and digits.
/// 2. Features, each with a weight: every word's stem (``appendStem(of:to:)``; `unigram_weight` × the
///    word's weight), every pair of consecutive content words, skipping function words
///    (`bigram_weight` × the mean of their weights), and the character n-grams of each word padded
///    as `<word>` (`char_ngram_weight` × the word's weight, shared evenly among the word's
///    n-grams). Word weights are 1 except for English function words (0.3) and whatever a
///    token-weights file says.
/// 3. A feature seen `tf` times counts `weight × (1 + ln tf)` (sublinear term frequency).
/// 4. Each feature is hashed with FNV-1a 64 (``FeatureHash``) over a kind tag and its scalars;
///    bit 0 of the hash gives the sign, the rest modulo `dimension` the bucket.
/// 5. The vector is L2-normalised. A text without words maps to the unit vector on bucket 0.
///
/// The same text gives the same vector on every machine and in every run.
public struct HashingEmbedder: Embedder {
    public let configuration: HashingEmbedderConfiguration
    public let tokenWeights: TokenWeights
    public let identity: String

    public var dimension: Int { configuration.dimension }

    /// - Parameters:
    ///   - configuration: the parameters.
    ///   - tokenWeightsFile: overrides `configuration.tokenWeightsFile` with a resolved path.
    /// - Throws: ``EmbeddingError/invalidConfiguration(_:)`` or ``EmbeddingError/modelFile(path:reason:)``.
    public init(configuration: HashingEmbedderConfiguration = .init(), tokenWeightsFile: String? = nil) throws(EmbeddingError) {
        let problems = configuration.problems
        guard problems.isEmpty else { throw .invalidConfiguration(problems.joined(separator: "; ")) }
        self.configuration = configuration
        if let file = tokenWeightsFile ?? configuration.tokenWeightsFile {
            tokenWeights = try TokenWeights.load(file: file)
        } else {
            tokenWeights = .builtIn
        }
        let c = configuration
        identity = "hashing-v1(dim=\(c.dimension),uni=\(c.unigramWeight),bi=\(c.bigramWeight),"
            + "char=\(c.charNgramWeight)@\(c.charNgramSizes.map(String.init).joined(separator: "/")),"
            + "weights=\(String(tokenWeights.fingerprint, radix: 16)))"
    }

    public func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        texts.map(vector(for:))
    }

    public func embed(_ text: NormalizedText) async throws(EmbeddingError) -> [Float] {
        vector(for: text)
    }

    /// The vector of `text`, synchronously.
    ///
    /// - Complexity: O(length of the text).
    public func vector(for text: String) -> [Float] {
        vector(for: NormalizedText(text))
    }

    /// The vector of an already normalised text.
    public func vector(for text: NormalizedText) -> [Float] {
        // An upper bound on the number of features: two per word, plus each word's n-grams.
        let grams = (text.scalars.count + 2 * text.count) * configuration.charNgramSizes.count
        var features = FeatureTable(capacityFor: 2 * text.count + grams + 16)
        let scalars = text.scalars
        var stemmed: [UInt32] = []
        stemmed.reserveCapacity(scalars.count + text.count)
        // The previous content word (weight above the function-word weight), for word pairs.
        var previous: (stem: Range<Int>, weight: Float)?
        for range in text.words {
            let word = scalars[range]
            let weight = tokenWeights.weight(word)
            let start = stemmed.count
            Self.appendStem(of: word, to: &stemmed)
            let stem = start..<stemmed.count
            if configuration.unigramWeight > 0 {
                var h = FeatureHash(tag: 0x55)  // "U"
                h.add(scalars: stemmed[stem])
                features.add(h.value, configuration.unigramWeight * weight)
            }
            if configuration.charNgramWeight > 0 {
                addCharNgrams(of: word, weight: configuration.charNgramWeight * weight, to: &features)
            }
            guard weight > TokenWeights.functionWordWeight else { continue }
            if let p = previous, configuration.bigramWeight > 0 {
                var h = FeatureHash(tag: 0x42)  // "B"
                h.add(scalars: stemmed[p.stem])
                h.add(scalar: 0x20)
                h.add(scalars: stemmed[stem])
                features.add(h.value, configuration.bigramWeight * (weight + p.weight) / 2)
            }
            previous = (stem, weight)
        }
        var vector = [Float](repeating: 0, count: dimension)
        let d = UInt64(dimension)
        features.forEach { hash, weight, count in
            let value = weight * (1 + logf(Float(count)))
            let bucket = Int((hash >> 1) % d)
            vector[bucket] += (hash & 1 == 0) ? value : -value
        }
        var norm: Float = 0
        for x in vector { norm += x * x }
        if norm > 0 {
            let scale = 1 / norm.squareRoot()
            for i in vector.indices { vector[i] *= scale }
        } else {
            vector[0] = 1
        }
        return vector
    }

    /// A light English suffix stripper for word features, so that "vaccines" meets "vaccine" and
    /// "refunds" meets "refund": -ies → -y, -es after s/x/z/ch/sh, -ing, -ed, -s (not -ss, -us,
    /// -is), each only when at least three letters remain. Character n-grams keep the full word.
    /// Appends the stem of `word` to `out` (no allocation per word).
    static func appendStem(of word: ArraySlice<UInt32>, to out: inout [UInt32]) {
        let n = word.count
        let e = word.endIndex
        @inline(__always) func at(_ back: Int) -> UInt32 { word[e - back] }  // at(1) is the last letter
        let s: UInt32 = 0x73, i: UInt32 = 0x69, u: UInt32 = 0x75, d: UInt32 = 0x64, g: UInt32 = 0x67
        var drop = 0
        var addY = false
        if n == 4 {
            if at(1) == s && at(2) != s { drop = 1 }  // "cats" -> "cat"
        } else if n > 4 {
            if at(1) == s && at(2) == 0x65 && at(3) == i {  // -ies -> -y
                drop = 3
                addY = true
            } else if at(1) == s && at(2) == 0x65
                        && (at(3) == s && at(4) == s || at(3) == 0x78 || at(3) == 0x7A
                            || (at(3) == 0x68 && (at(4) == 0x63 || at(4) == s)))
            {
                drop = 2  // -sses, -xes, -zes, -ches, -shes
            } else if at(1) == g && at(2) == 0x6E && at(3) == i && n - 3 >= 3 {
                drop = 3  // -ing
            } else if at(1) == d && at(2) == 0x65 && n - 2 >= 3 {
                drop = 2  // -ed
            } else if at(1) == s && at(2) != s && at(2) != u && at(2) != i {
                drop = 1  // -s
            }
        }
        out.append(contentsOf: word.dropLast(drop))
        if addY { out.append(0x79) }
    }

    /// Adds the n-grams of `<word>` for each configured size, sharing `weight` among them.
    private func addCharNgrams(of word: ArraySlice<UInt32>, weight: Float, to features: inout FeatureTable) {
        let length = word.count + 2  // with "<" and ">"
        var grams = 0
        for n in configuration.charNgramSizes where n <= length { grams += length - n + 1 }
        guard grams > 0 else { return }
        let share = weight / Float(grams)
        let start = word.startIndex
        @inline(__always) func padded(_ i: Int) -> UInt32 {
            i == 0 ? 0x3C : (i == length - 1 ? 0x3E : word[start + i - 1])
        }
        for n in configuration.charNgramSizes where n <= length {
            for first in 0...(length - n) {
                var h = FeatureHash(tag: 0x43 &+ UInt8(truncatingIfNeeded: n))  // "C" + n
                for i in first..<(first + n) { h.add(scalar: padded(i)) }
                features.add(h.value, share)
            }
        }
    }
}
