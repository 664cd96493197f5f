import Testing
import TestSupport
import VectorIndex

@Suite("HNSWIndex")
struct HNSWIndexTests {
    static let data = ClusteredDataset(count: 10_000, dimension: 128, queries: 200, clusters: 100, seed: 7)

    /// The recall gate (hnswlib's `bindings_test_recall.py`): default parameters, exact ground
    /// truth from FlatIndex.
    @Test("recall@10 is at least 0.95 against FlatIndex at default parameters")
    func recallGate() throws {
        var index = try HNSWIndex(dimension: 128, capacity: Self.data.count)
        var flat = try FlatIndex(dimension: 128)
        for i in 0..<Self.data.count {
            try index.insert(key: UInt64(i), vector: Self.data.base(i))
            try flat.insert(key: UInt64(i), vector: Self.data.base(i))
        }
        let truth = try flat.search(batch: Self.data.queryVectors, k: 10).map { $0.map(\.key) }
        let found = try (0..<Self.data.queryCount).map { try index.search(Self.data.query($0), k: 10).map(\.key) }
        let r = recall(found: found, truth: truth, k: 10)
        #expect(r >= 0.95, "recall@10 = \(r)")
        let stats = index.stats
        #expect(stats.count == Self.data.count)
        #expect(stats.meanDegree > 8)
        #expect(stats.levels >= 2)
    }
}
