/// The trivial reference for every index test: score every vector in double precision and sort.
public struct BruteForce {
    public private(set) var vectors: [UInt64: [Float]] = [:]

    public init() {}

    public mutating func insert(key: UInt64, vector: [Float]) {
        vectors[key] = vector
    }

    public mutating func remove(key: UInt64) {
        vectors.removeValue(forKey: key)
    }

    /// Cosine similarity in double precision.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// The `k` most similar keys passing `filter`, most similar first (ties by key).
    public func search(_ query: [Float], k: Int, filter: (UInt64) -> Bool = { _ in true }) -> [(key: UInt64, similarity: Double)] {
        var scored: [(key: UInt64, similarity: Double)] = []
        for (key, vector) in vectors where filter(key) {
            scored.append((key: key, similarity: Self.cosine(query, vector)))
        }
        scored.sort { a, b in
            if a.similarity != b.similarity { return a.similarity > b.similarity }
            return a.key < b.key
        }
        return Array(scored.prefix(k))
    }
}
