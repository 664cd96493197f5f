/// The parameters of an ``HNSWIndex`` (Malkov & Yashunin, arXiv:1603.09320, section 4).
///
/// ```swift
/// var configuration = HNSWConfiguration()
/// configuration.efSearch = 128          // more recall, fewer queries per second
/// try configuration.validate()
/// ```
public struct HNSWConfiguration: Codable, Sendable, Equatable {
    /// M: the number of links a node keeps on levels above 0; level 0 keeps `2 * m`.
    /// Larger values raise recall and memory. 12 to 48 covers most uses.
    public var m: Int
    /// The size of the candidate list while a node is inserted. Larger builds a better graph, slower.
    public var efConstruction: Int
    /// The default size of the candidate list at query time (overridable per query). Larger finds
    /// more of the true nearest neighbours, slower.
    public var efSearch: Int
    /// Seeds the level generator, so that the same keys give the same graph.
    public var seed: UInt64
    /// How vectors are stored: `float32` (default) or `int8`, a quarter of the memory for a
    /// little recall (see ``VectorEncoding``).
    public var vectors: VectorEncoding

    public init(
        m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 100,
        vectors: VectorEncoding = .float32
    ) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
        self.vectors = vectors
    }

    enum CodingKeys: String, CodingKey {
        case m, efConstruction = "ef_construction", efSearch = "ef_search", seed, vectors
    }

    public init(from decoder: any Decoder) throws {
        let defaults = HNSWConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        m = try c.decodeIfPresent(Int.self, forKey: .m) ?? defaults.m
        efConstruction = try c.decodeIfPresent(Int.self, forKey: .efConstruction) ?? defaults.efConstruction
        efSearch = try c.decodeIfPresent(Int.self, forKey: .efSearch) ?? defaults.efSearch
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
        vectors = try c.decodeIfPresent(VectorEncoding.self, forKey: .vectors) ?? defaults.vectors
    }

    /// Every problem with these parameters, one message each; empty when they are usable.
    public var problems: [String] {
        var out: [String] = []
        if !(2...256).contains(m) {
            out.append("m must be between 2 and 256, got \(m)")
        }
        if !(1...100_000).contains(efConstruction) {
            out.append("ef_construction must be between 1 and 100000, got \(efConstruction)")
        } else if efConstruction < m {
            out.append("ef_construction must be at least m (\(m)), got \(efConstruction)")
        }
        if !(1...100_000).contains(efSearch) {
            out.append("ef_search must be between 1 and 100000, got \(efSearch)")
        }
        return out
    }

    /// - Throws: ``IndexError/invalidParameter(_:)`` naming every bad parameter.
    public func validate() throws(IndexError) {
        let problems = self.problems
        if !problems.isEmpty {
            throw .invalidParameter("invalid HNSW parameters: " + problems.joined(separator: "; "))
        }
    }
}
