import DejaSupport
import Foundation

/// Per-word weights for the hashing embedder, keyed by the word's ``FeatureHash``.
///
/// Built in: English function words weigh 0.3, so that "what is the capital of France" and
/// "what is the capital of Peru" are not close merely because they share "what is the of".
/// A file can add or override weights (`word<TAB>weight`, `#` starts a comment).
public struct TokenWeights: Sendable, Equatable {
    private(set) var weights: [UInt64: Float] = [:]
    /// A short fingerprint of the weights, part of the embedder's identity.
    public private(set) var fingerprint: UInt64 = FeatureHash.offsetBasis

    /// The words the built-in table down-weights: function words that say little about a
    /// question's topic. Negations are not among them: they change meaning.
    public static let functionWords: [String] = """
        a about above after again against all am an and any are as at be because been before being \
        below between both but by can could did do does doing down during each few for from further \
        had has have having he her here hers herself him himself his how i if in into is it its itself \
        just me more most my myself of on once only or other our ours ourselves out over own same she \
        should so some such than that the their theirs them themselves then there these they this those \
        through to too under until up very was we were what when where which while who whom why will \
        with would you your yours yourself yourselves please tell explain give show help know want need \
        like get let us im id ive youre its whats hows thats theres
        """.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        .filter { !$0.isEmpty }

    public static let functionWordWeight: Float = 0.3

    /// The built-in weights.
    public static let builtIn: TokenWeights = {
        var w = TokenWeights()
        for word in functionWords { w.set(word, functionWordWeight) }
        return w
    }()

    public init() {}

    /// The built-in weights plus those of `file` (which win).
    ///
    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` naming the line that is wrong.
    public static func load(file path: String) throws(EmbeddingError) -> TokenWeights {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw .modelFile(path: path, reason: "cannot read token weights: \(error.reason)")
        }
        var weights = builtIn
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.isEmpty { continue }
            guard fields.count == 2, let weight = Float(fields[1]), weight.isFinite, weight >= 0 else {
                throw .modelFile(
                    path: path, reason: "line \(number + 1): expected `word<TAB>weight` with a weight ≥ 0, got '\(rawLine)'")
            }
            let normalized = NormalizedText(String(fields[0]))
            guard normalized.count == 1 else {
                throw .modelFile(path: path, reason: "line \(number + 1): '\(fields[0])' is not a single word")
            }
            weights.set(normalized.word(0), weight)
        }
        return weights
    }

    mutating func set(_ word: String, _ weight: Float) {
        let key = Self.key(NormalizedText(word).scalars[...])
        weights[key] = weight
        var f = FeatureHash()
        f.add(bytes: withUnsafeBytes(of: fingerprint.littleEndian) { Array($0) })
        f.add(bytes: withUnsafeBytes(of: key.littleEndian) { Array($0) })
        f.add(bytes: withUnsafeBytes(of: weight.bitPattern.littleEndian) { Array($0) })
        fingerprint = f.value
    }

    /// The weight of the word with these scalars (1 when it has none).
    @inline(__always)
    public func weight(_ word: ArraySlice<UInt32>) -> Float {
        weights.isEmpty ? 1 : weights[Self.key(word)] ?? 1
    }

    @inline(__always)
    static func key(_ word: ArraySlice<UInt32>) -> UInt64 {
        var h = FeatureHash(tag: 0x57)  // "W"
        h.add(scalars: word)
        return h.value
    }

    public var count: Int { weights.count }
}
