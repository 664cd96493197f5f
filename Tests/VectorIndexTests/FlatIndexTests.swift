import Testing
import TestSupport
import VectorIndex

@Suite("FlatIndex")
struct FlatIndexTests {
    static let data = ClusteredDataset(count: 2_000, dimension: 48, queries: 40, clusters: 20, seed: 11)

    @Test("top-k equals brute force, one query at a time and batched")
    func equalsBruteForce() throws {
        // Given a flat index and the brute-force oracle over the same vectors
        var flat = try FlatIndex(dimension: 48)
        var oracle = BruteForce()
        for i in 0..<Self.data.count {
            try flat.insert(key: UInt64(i), vector: Self.data.base(i))
            oracle.insert(key: UInt64(i), vector: Self.data.base(i))
        }
        // When every query is searched singly and as one batch
        let batched = try flat.search(batch: Self.data.queryVectors, k: 10)
        for q in 0..<Self.data.queryCount {
            let single = try flat.search(Self.data.query(q), k: 10)
            let expected = oracle.search(Self.data.query(q), k: 10)
            // Then both return the oracle's keys in its order, with its similarities
            #expect(single.map(\.key) == expected.map(\.key))
            #expect(batched[q].map(\.key) == expected.map(\.key))
            for (got, want) in zip(single, expected) {
                #expect(abs(Double(got.similarity) - want.similarity) < 1e-5)
            }
        }
    }

    @Test("removal moves the last row and forgets the key")
    func removal() throws {
        var flat = try FlatIndex(dimension: 48)
        for i in 0..<100 { try flat.insert(key: UInt64(i), vector: Self.data.base(i)) }
        let first = flat.remove(key: 10)
        let second = flat.remove(key: 10)
        #expect(first)
        #expect(!second)
        #expect(flat.count == 99)
        // The moved row (key 99) is still found exactly where it is.
        let hit = try flat.search(Self.data.base(99), k: 1)
        #expect(hit.first?.key == 99)
        #expect(abs(hit.first!.similarity - 1) < 1e-5)
        let all = try flat.search(Self.data.base(10), k: 100)
        #expect(!all.contains { $0.key == 10 })
        #expect(all.count == 99)
    }

    @Test("filter is honoured and re-insert replaces")
    func filterAndReplace() throws {
        var flat = try FlatIndex(dimension: 48)
        for i in 0..<200 { try flat.insert(key: UInt64(i), vector: Self.data.base(i)) }
        let even = try flat.search(Self.data.query(0), k: 20) { $0 % 2 == 0 }
        #expect(even.count == 20)
        #expect(even.allSatisfy { $0.key % 2 == 0 })
        try flat.insert(key: 5, vector: Self.data.base(150))
        #expect(flat.count == 200)
        let hit = try flat.search(Self.data.base(150), k: 2)
        #expect(Set(hit.map(\.key)) == [5, 150])
    }

    @Test("bad vectors are rejected with typed errors")
    func badVectors() throws {
        var flat = try FlatIndex(dimension: 4)
        #expect(throws: IndexError.dimensionMismatch(expected: 4, got: 3)) {
            try flat.insert(key: 1, vector: [1, 2, 3])
        }
        #expect(throws: IndexError.zeroVector) { try flat.insert(key: 1, vector: [0, 0, 0, 0]) }
        #expect(throws: IndexError.nonFiniteValue(position: 2)) {
            try flat.insert(key: 1, vector: [1, 1, .nan, 1])
        }
        #expect(throws: IndexError.nonFiniteValue(position: 0)) {
            try flat.search([.infinity, 1, 1, 1], k: 1)
        }
        #expect(flat.count == 0)
    }
}
