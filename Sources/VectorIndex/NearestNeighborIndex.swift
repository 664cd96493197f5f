/// What ``SharedIndex`` needs of an index: search, a two-phase insert and removal.
///
/// An insert is split so that its expensive, read-only half (``prepareInsert(key:vector:)``) can
/// run while searches go on, and only ``commit(_:)`` needs exclusive access.
public protocol NearestNeighborIndex: Sendable {
    associatedtype Prepared: Sendable

    var dimension: Int { get }
    /// Live vectors.
    var count: Int { get }
    func contains(key: UInt64) -> Bool
    /// The `k` most similar live vectors, most similar first; `ef` is a hint that exact indexes ignore.
    func search(_ query: [Float], k: Int, ef: Int?, filter: ((UInt64) -> Bool)?) throws(IndexError) -> [Neighbor]
    /// Validates `vector` and does the read-only work of inserting it.
    func prepareInsert(key: UInt64, vector: [Float]) throws(IndexError) -> Prepared
    /// Finishes an insert; replaces the key's earlier vector.
    mutating func commit(_ prepared: Prepared)
    @discardableResult mutating func remove(key: UInt64) -> Bool
    var stats: IndexStats { get }
}

extension HNSWIndex: NearestNeighborIndex {}

extension FlatIndex: NearestNeighborIndex {
    public func search(_ query: [Float], k: Int, ef: Int?, filter: ((UInt64) -> Bool)?) throws(IndexError) -> [Neighbor] {
        try search(query, k: k, filter: filter)
    }

    public func prepareInsert(key: UInt64, vector: [Float]) throws(IndexError) -> PreparedFlatInsert {
        PreparedFlatInsert(key: key, vector: try VectorMath.normalized(vector, dimension: dimension))
    }

    public mutating func commit(_ prepared: PreparedFlatInsert) {
        // Cannot fail: the vector was validated by prepareInsert.
        try! insert(key: prepared.key, vector: prepared.vector)
    }

    public var stats: IndexStats {
        IndexStats(
            count: count, tombstones: 0, dimension: dimension,
            vectorBytes: count * dimension * 4, linkBytes: 0,
            memoryBytes: vectors.capacity * 4 + rowKeys.capacity * 8
                + IndexStats.dictionaryBytes(count: rowOfKey.count, valueBytes: 8),
            levels: 1, nodesPerLevel: [count], meanDegree: 0)
    }
}
