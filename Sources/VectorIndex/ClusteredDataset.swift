import Foundation

/// A seeded, synthetic set of "embedding-like" vectors for tests and benchmarks: points drawn
/// around cluster centres with cluster sizes that fall off like a Zipf law, plus queries of two
/// kinds: paraphrases (a base point plus noise) and fresh draws from the same clusters.
///
/// ```swift
/// let data = ClusteredDataset(count: 10_000, dimension: 128, queries: 200, clusters: 100, seed: 7)
/// var index = try HNSWIndex(dimension: 128)
/// for i in 0..<data.count { try index.insert(key: UInt64(i), vector: data.base(i)) }
/// ```
///
/// The same parameters give the same vectors on every machine.
public struct ClusteredDataset: Sendable {
    public let count: Int
    public let dimension: Int
    public let queryCount: Int
    /// Base vectors, row-major, L2-normalised; the key of row `i` is `i`.
    public let baseVectors: [Float]
    /// Query vectors, row-major, L2-normalised.
    public let queryVectors: [Float]

    /// - Parameters:
    ///   - count: base vectors.
    ///   - dimension: floats per vector.
    ///   - queries: query vectors; the first half are paraphrases of base vectors.
    ///   - clusters: cluster centres.
    ///   - spread: noise around a centre relative to the spread of the centres.
    ///   - seed: the random seed.
    public init(count: Int, dimension: Int, queries: Int, clusters: Int = 100, spread: Float = 0.7, seed: UInt64 = 1) {
        self.count = count
        self.dimension = dimension
        self.queryCount = queries
        var rng = SplitMix64(seed: seed)
        let clusters = max(1, clusters)
        var centres = [Float](repeating: 0, count: clusters * dimension)
        for i in centres.indices { centres[i] = Self.gaussian(&rng) }
        // Zipf-like cluster sizes: p(j) ∝ (j + 1)^-0.6, sampled through the cumulative sums.
        var cumulative = [Double](repeating: 0, count: clusters)
        var total = 0.0
        for j in 0..<clusters {
            total += pow(Double(j + 1), -0.6)
            cumulative[j] = total
        }
        func draw(into out: inout [Float], row: Int) {
            let u = Double(rng.next() >> 11) * 0x1.0p-53 * total
            var lo = 0
            var hi = clusters - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            for d in 0..<dimension {
                out[row * dimension + d] = centres[lo * dimension + d] + spread * Self.gaussian(&rng)
            }
            Self.normalizeRow(&out, row: row, dimension: dimension)
        }
        var base = [Float](repeating: 0, count: count * dimension)
        for i in 0..<count { draw(into: &base, row: i) }
        var query = [Float](repeating: 0, count: queries * dimension)
        let paraphrases = count > 0 ? queries / 2 : 0
        for i in 0..<paraphrases {
            let source = Int(rng.next() % UInt64(count))
            for d in 0..<dimension {
                query[i * dimension + d] = base[source * dimension + d] + 0.02 * Self.gaussian(&rng)
            }
            Self.normalizeRow(&query, row: i, dimension: dimension)
        }
        for i in paraphrases..<queries { draw(into: &query, row: i) }
        baseVectors = base
        queryVectors = query
    }

    /// Base vector `i` (its key is `i`).
    public func base(_ i: Int) -> [Float] {
        Array(baseVectors[i * dimension..<(i + 1) * dimension])
    }

    /// Query vector `i`.
    public func query(_ i: Int) -> [Float] {
        Array(queryVectors[i * dimension..<(i + 1) * dimension])
    }

    /// A standard normal draw (Box–Muller).
    static func gaussian(_ rng: inout SplitMix64) -> Float {
        let u1 = max(Double(rng.next() >> 11) * 0x1.0p-53, Double.leastNonzeroMagnitude)
        let u2 = Double(rng.next() >> 11) * 0x1.0p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    static func normalizeRow(_ v: inout [Float], row: Int, dimension: Int) {
        var s: Float = 0
        for d in 0..<dimension { s += v[row * dimension + d] * v[row * dimension + d] }
        let scale = s > 0 ? 1 / s.squareRoot() : 0
        for d in 0..<dimension { v[row * dimension + d] *= scale }
    }
}

/// Recall@k: the mean fraction of each query's true top-`k` keys that a search returned.
public func recall(found: [[UInt64]], truth: [[UInt64]], k: Int) -> Double {
    precondition(found.count == truth.count, "recall: \(found.count) results for \(truth.count) queries")
    guard !truth.isEmpty, k > 0 else { return 1 }
    var hits = 0
    for (f, t) in zip(found, truth) {
        let expected = Set(t.prefix(k))
        hits += f.prefix(k).filter { expected.contains($0) }.count
    }
    return Double(hits) / Double(truth.count * k)
}
