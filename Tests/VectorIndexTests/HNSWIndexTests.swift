import Testing
import TestSupport
@testable import VectorIndex

@Suite("HNSWIndex")
struct HNSWIndexTests {
    static let data = ClusteredDataset(count: 10_000, dimension: 128, queries: 200, clusters: 100, seed: 7)
    static let small = ClusteredDataset(count: 2_000, dimension: 32, queries: 50, clusters: 20, seed: 3)

    static func truth(_ data: ClusteredDataset, k: Int) throws -> [[UInt64]] {
        var flat = try FlatIndex(dimension: data.dimension)
        for i in 0..<data.count { try flat.insert(key: UInt64(i), vector: data.base(i)) }
        return try flat.search(batch: data.queryVectors, k: k).map { $0.map(\.key) }
    }

    static func build(_ data: ClusteredDataset, count: Int? = nil) throws -> HNSWIndex {
        var index = try HNSWIndex(dimension: data.dimension, capacity: data.count)
        for i in 0..<(count ?? data.count) { try index.insert(key: UInt64(i), vector: data.base(i)) }
        return index
    }

    /// The recall gate (hnswlib's `bindings_test_recall.py`): default parameters, exact ground
    /// truth from FlatIndex.
    @Test("recall@10 is at least 0.95 against FlatIndex at default parameters")
    func recallGate() throws {
        let index = try Self.build(Self.data)
        let truth = try Self.truth(Self.data, k: 10)
        let found = try (0..<Self.data.queryCount).map { try index.search(Self.data.query($0), k: 10).map(\.key) }
        let r = recall(found: found, truth: truth, k: 10)
        #expect(r >= 0.95, "recall@10 = \(r)")
        let stats = index.stats
        #expect(stats.count == Self.data.count)
        #expect(stats.meanDegree > 8)
        #expect(stats.levels >= 2)
        index._checkInvariants()
    }

    @Test("int8 vectors reach the recall gate against float ground truth, built one by one and in bulk, in a quarter of the vector memory")
    func int8Recall() throws {
        let configuration = HNSWConfiguration(vectors: .int8)
        var single = try HNSWIndex(dimension: 128, configuration: configuration)
        for i in 0..<Self.data.count { try single.insert(key: UInt64(i), vector: Self.data.base(i)) }
        var bulk = try HNSWIndex(dimension: 128, configuration: configuration)
        try bulk.insert(contentsOf: Self.data.baseVectors, keys: (0..<Self.data.count).map { UInt64($0) }, threads: 2)
        let truth = try Self.truth(Self.data, k: 10)
        for index in [single, bulk] {
            index._checkInvariants()
            let found = try (0..<Self.data.queryCount).map { try index.search(Self.data.query($0), k: 10).map(\.key) }
            let r = recall(found: found, truth: truth, k: 10)
            #expect(r >= 0.95, "recall@10 = \(r)")
            #expect(index.stats.vectorBytes == Self.data.count * (128 + 4))
            // A stored vector scores (almost) 1 against itself: the scale makes it unit length.
            let best = try #require(try index.search(Self.data.base(17), k: 1).first)
            #expect(best.key == 17 && abs(best.similarity - 1) < 2e-3, "\(best)")
        }
        let float = try Self.build(Self.data, count: 100)
        #expect(float.stats.vectorBytes == 100 * 128 * 4)
    }

    @Test("an int8 search returns each result's similarity to the float query, most similar first, whether or not the CPU rounds the query to int8")
    func int8SimilaritiesAreTheFloatQuerys() throws {
        var index = try HNSWIndex(dimension: 128, configuration: HNSWConfiguration(vectors: .int8))
        let keys = (0..<2_000).map { UInt64($0) }
        try index.insert(contentsOf: Array(Self.data.baseVectors[0..<(2_000 * 128)]), keys: keys, threads: 1)
        for q in 0..<20 {
            let query = Self.data.query(q)
            let found = try index.search(query, k: 10, ef: 64)
            #expect(found.count == 10)
            // score(_:keys:k:) multiplies the float query by each vector's codes: the reference.
            let exact = try index.score(query, keys: found.map(\.key), k: 10)
            for hit in found {
                let reference = try #require(exact.first { $0.key == hit.key })
                // Within float rounding; the int8 query's estimate is off by about 1e-3.
                #expect(abs(hit.similarity - reference.similarity) < 1e-6, "query \(q), key \(hit.key)")
            }
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.similarity >= $1.similarity }, "query \(q)")
        }
    }

    @Test("the int8 walk down the upper levels mostly ends where the float walk does, as near on average, and reports its int8 distance")
    func int8Descent() throws {
        var index = try HNSWIndex(dimension: 128, configuration: HNSWConfiguration(vectors: .int8))
        try index.insert(contentsOf: Array(Self.data.baseVectors[0..<(4_000 * 128)]), keys: (0..<4_000).map { UInt64($0) }, threads: 2)
        let graph = index.storage.view
        let entry = try #require(index.entryPoint)
        #expect(index.maxLevel >= 2)
        var same = 0, moved = 0, reachedTotal = 0.0, floatTotal = 0.0
        for q in 0..<Self.data.queryCount {
            let query = try VectorMath.normalized(Self.data.query(q), dimension: 128)
            var codes = [Int8](repeating: 0, count: 128)
            try query.withUnsafeBufferPointer { query in
                let scale = VectorMath.quantize(query.baseAddress!, dimension: 128, into: &codes)
                let float = index._greedyDescent(query.baseAddress!, from: entry, fromLevel: index.maxLevel, toLevel: 0, graph: graph)
                let int8 = codes.withUnsafeBufferPointer {
                    index._greedyDescent(query.baseAddress!, from: entry, fromLevel: index.maxLevel, toLevel: 0, graph: graph,
                                         queryCodes: $0.baseAddress!, queryScale: scale)
                }
                let reached = graph.similarity(query.baseAddress!, int8.slot)
                // The distance it reports is the int8 estimate of the node it reached.
                #expect(abs((1 - int8.distance) - reached) < 0.01, "query \(q)")
                reachedTotal += Double(reached)
                floatTotal += Double(1 - float.distance)
                if int8.slot == float.slot { same += 1 }
                if int8.slot != entry { moved += 1 }
            }
        }
        // A greedy walk can part from the float one where two neighbours tie within the rounding
        // (about 1e-3) and end at another local best; level 0's search starts from there. Most
        // end at the same node, and on average as near.
        #expect(same >= Self.data.queryCount * 9 / 10, "\(same) of \(Self.data.queryCount) ended where the float walk did")
        #expect(reachedTotal >= floatTotal - 0.01 * Double(Self.data.queryCount), "mean similarity \(reachedTotal) against \(floatTotal)")
        #expect(moved >= Self.data.queryCount * 9 / 10, "\(moved) of \(Self.data.queryCount) left the entry point")
    }

    @Test("the parallel bulk build reaches the recall gate")
    func bulkBuildRecall() throws {
        var index = try HNSWIndex(dimension: 128)
        var reported = 0
        try index.insert(
            contentsOf: Self.data.baseVectors, keys: (0..<Self.data.count).map { UInt64($0) }, threads: 2
        ) { reported = $0 }
        #expect(reported == Self.data.count)
        index._checkInvariants()
        let truth = try Self.truth(Self.data, k: 10)
        let found = try (0..<Self.data.queryCount).map { try index.search(Self.data.query($0), k: 10).map(\.key) }
        let r = recall(found: found, truth: truth, k: 10)
        #expect(r >= 0.95, "recall@10 = \(r)")
    }

    @Test("the bulk build gives the same graph on 1 and 4 threads, and updates existing keys")
    func bulkBuildDeterministic() throws {
        let keys = (0..<Self.small.count).map { UInt64($0) }
        var one = try HNSWIndex(dimension: 32)
        try one.insert(contentsOf: Self.small.baseVectors, keys: keys, threads: 1)
        var four = try HNSWIndex(dimension: 32)
        try four.insert(contentsOf: Self.small.baseVectors, keys: keys, threads: 4)
        for q in 0..<Self.small.queryCount {
            #expect(try one.search(Self.small.query(q), k: 10) == four.search(Self.small.query(q), k: 10))
        }
        // A second bulk insert of existing keys (and one key twice) replaces their vectors.
        try four.insert(contentsOf: Self.small.base(10) + Self.small.base(11) + Self.small.base(12), keys: [0, 1, 0])
        #expect(four.count == Self.small.count)
        #expect(try four.search(Self.small.base(12), k: 2).map(\.key).sorted() == [0, 12])
        #expect(try four.search(Self.small.base(11), k: 2).map(\.key).sorted() == [1, 11])
        four._checkInvariants()
    }

    @Test("removed keys are never returned, and their slots are reused")
    func removal() throws {
        var index = try Self.build(Self.small)
        var rng = SplitMix64(seed: 9)
        var removed = Set<UInt64>()
        while removed.count < 500 {
            let key = UInt64(rng.next() % 2_000)
            if removed.insert(key).inserted {
                let wasPresent = index.remove(key: key)
                #expect(wasPresent)
            }
        }
        let again = index.remove(key: Array(removed)[0])
        #expect(!again)
        #expect(index.count == 1_500)
        #expect(index.stats.tombstones == 500)
        for q in 0..<Self.small.queryCount {
            let hits = try index.search(Self.small.query(q), k: 50, ef: 100)
            #expect(hits.count == 50)
            #expect(hits.allSatisfy { !removed.contains($0.key) })
        }
        // Reinsert 300 new keys: they take deleted slots, the old keys stay gone.
        let fresh = ClusteredDataset(count: 300, dimension: 32, queries: 0, clusters: 20, seed: 4)
        for i in 0..<300 { try index.insert(key: UInt64(10_000 + i), vector: fresh.base(i)) }
        #expect(index.stats.tombstones == 200)
        #expect(index.storage.count == 2_000)
        index._checkInvariants()
        for i in 0..<300 {
            let hit = try index.search(fresh.base(i), k: 1)
            #expect(hit.first?.key == UInt64(10_000 + i))
        }
        for q in 0..<Self.small.queryCount {
            let hits = try index.search(Self.small.query(q), k: 50, ef: 100)
            #expect(hits.allSatisfy { !removed.contains($0.key) })
        }
    }

    @Test("a filter is honoured and finds what brute force finds")
    func filter() throws {
        let index = try Self.build(Self.small)
        var oracle = BruteForce()
        for i in 0..<Self.small.count { oracle.insert(key: UInt64(i), vector: Self.small.base(i)) }
        var hits = 0
        for q in 0..<Self.small.queryCount {
            let found = try index.search(Self.small.query(q), k: 10, ef: 64) { $0 % 7 == 0 }
            #expect(found.count == 10)
            #expect(found.allSatisfy { $0.key % 7 == 0 })
            let expected = Set(oracle.search(Self.small.query(q), k: 10) { $0 % 7 == 0 }.map(\.key))
            hits += found.filter { expected.contains($0.key) }.count
        }
        #expect(Double(hits) / Double(10 * Self.small.queryCount) >= 0.9)
        // A filter that accepts nothing returns nothing.
        #expect(try index.search(Self.small.query(0), k: 5) { _ in false }.isEmpty)
    }

    @Test("tags partition results, survive compaction, and score(keys:) ranks a subset exactly")
    func tags() throws {
        var index = try HNSWIndex(dimension: 32)
        for i in 0..<Self.small.count {
            try index.insert(key: UInt64(i), vector: Self.small.base(i), tag: UInt32(i % 4))
        }
        #expect(index.tag(forKey: 7) == 3)
        #expect(index.tag(forKey: 99_999) == nil)
        for q in 0..<20 {
            let hits = try index.search(Self.small.query(q), k: 10, tag: 2)
            #expect(hits.count == 10)
            #expect(hits.allSatisfy { $0.key % 4 == 2 })
            let both = try index.search(Self.small.query(q), k: 5, tag: 1) { $0 % 8 == 1 }
            #expect(both.allSatisfy { $0.key % 8 == 1 })
        }
        var oracle = BruteForce()
        for i in 0..<Self.small.count { oracle.insert(key: UInt64(i), vector: Self.small.base(i)) }
        let subset = Set((0..<60).map { UInt64($0 * 7) })
        let scored = try index.score(Self.small.query(0), keys: subset.union([123_456]), k: 5)
        #expect(scored.map(\.key) == oracle.search(Self.small.query(0), k: 5) { subset.contains($0) }.map(\.key))
        let compact = index.compacted(threads: 2)
        #expect(compact.tag(forKey: 7) == 3)
        #expect(try compact.search(Self.small.query(0), k: 10, tag: 0).allSatisfy { $0.key % 4 == 0 })
    }

    @Test("a detached copy shares no buffers: it answers as the original did while the original changes")
    func detachedCopy() throws {
        var index = try Self.build(Self.small, count: 1_000)
        let copy = index.detachedCopy()
        #expect(copy.storage !== index.storage)
        let before = try index.search(Self.small.base(10), k: 5)
        // The original stays uniquely referenced: inserting does not copy its storage.
        let storage = ObjectIdentifier(index.storage)
        for i in 1_000..<1_200 { try index.insert(key: UInt64(i), vector: Self.small.base(i)) }
        index.remove(key: 10)
        #expect(ObjectIdentifier(index.storage) == storage)
        #expect(copy.count == 1_000)
        #expect(try copy.search(Self.small.base(10), k: 5) == before)
        copy._checkInvariants()
        index._checkInvariants()
    }

    @Test("re-inserting a key replaces its vector")
    func reinsert() throws {
        var index = try Self.build(Self.small)
        try index.insert(key: 5, vector: Self.small.base(1_500))
        #expect(index.count == 2_000)
        let hit = try index.search(Self.small.base(1_500), k: 2)
        #expect(Set(hit.map(\.key)) == [5, 1_500])
        #expect(hit.allSatisfy { abs($0.similarity - 1) < 1e-4 })
        let old = try index.search(Self.small.base(5), k: 1)
        #expect(old.first?.key != 5)
        index._checkInvariants()
    }

    @Test("bad input: wrong dimension, zero, NaN, bad k; the index is unchanged")
    func badInput() throws {
        var index = try Self.build(Self.small, count: 100)
        #expect(throws: IndexError.dimensionMismatch(expected: 32, got: 31)) {
            try index.insert(key: 1_000, vector: [Float](repeating: 1, count: 31))
        }
        #expect(throws: IndexError.zeroVector) {
            try index.insert(key: 1_000, vector: [Float](repeating: 0, count: 32))
        }
        var nan = Self.small.base(0)
        nan[7] = .nan
        #expect(throws: IndexError.nonFiniteValue(position: 7)) { try index.insert(key: 1_000, vector: nan) }
        #expect(throws: IndexError.dimensionMismatch(expected: 32, got: 64)) {
            try index.search([Float](repeating: 1, count: 64), k: 1)
        }
        #expect(throws: IndexError.self) { try index.search(Self.small.query(0), k: 0) }
        #expect(index.count == 100)
        #expect(!index.contains(key: 1_000))
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 0) }
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 8, configuration: .init(m: 1)) }
        var bulk = try HNSWIndex(dimension: 32)
        #expect(throws: IndexError.self) {
            try bulk.insert(contentsOf: nan + Self.small.base(1), keys: [1, 2])
        }
        #expect(bulk.count == 0)
    }

    @Test("an empty index answers with nothing")
    func empty() throws {
        let index = try HNSWIndex(dimension: 4)
        #expect(try index.search([1, 0, 0, 0], k: 3).isEmpty)
        #expect(index.stats.count == 0)
    }

    @Test("compaction drops tombstones and keeps answers")
    func compaction() throws {
        var index = try Self.build(Self.small)
        for key in stride(from: 0, to: 2_000, by: 2) { index.remove(key: UInt64(key)) }
        let compact = index.compacted(threads: 2)
        #expect(compact.count == 1_000)
        #expect(compact.stats.tombstones == 0)
        #expect(compact.storage.count == 1_000)
        compact._checkInvariants()
        for i in stride(from: 1, to: 2_000, by: 98) {
            #expect(try compact.search(Self.small.base(i), k: 1).first?.key == UInt64(i))
        }
    }
}
