import Foundation
import Testing
import TestSupport
@testable import VectorIndex

/// The index driven by a seeded random mix of inserts, replacements, removals (whose slots the
/// next inserts reuse, re-linking their neighbours), bulk inserts, compactions and save/load
/// round trips, checked against a plain dictionary of the live vectors: the graph's invariants
/// after every step, and at checkpoints the answers against brute force over the live set.
@Suite("HNSWIndex against a model")
struct HNSWModelTests {
    static let dimension = 16

    static func randomVector(_ rng: inout SplitMix64) -> [Float] {
        // Around a few centres, so that neighbourhoods are crowded as in real embeddings.
        let centre = Float(Int.random(in: 0..<6, using: &rng))
        return (0..<dimension).map { i in
            (i % 6 == Int(centre) ? 1 : 0) + Float.random(in: -0.3...0.3, using: &rng)
        }
    }

    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    @Test("after 2,000 random inserts, replacements, removals, bulk inserts, compactions and file round trips the index holds what the model holds and finds it",
          arguments: VectorEncoding.allCases)
    func randomOperations(vectors: VectorEncoding) throws {
        var index = try HNSWIndex(
            dimension: Self.dimension, configuration: .init(m: 6, efConstruction: 40, seed: 5, vectors: vectors))
        // An int8 component is off by at most half a step of 1/127 of the largest one.
        let tolerance: Float = vectors == .float32 ? 1e-5 : 0.01
        var model: [UInt64: [Float]] = [:]
        var removed = Set<UInt64>()
        var rng = SplitMix64(seed: 2611)
        var nextKey: UInt64 = 1
        let directory = try TemporaryDirectory("deja-hnsw-model")
        defer { directory.remove() }
        var recalls: [Double] = []

        for step in 0..<2_000 {
            // Keys are picked from a sorted list: a dictionary's order changes from run to run.
            let keys = model.keys.sorted()
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<45:
                let v = Self.randomVector(&rng)
                try index.insert(key: nextKey, vector: v)
                model[nextKey] = Self.normalized(v)
                nextKey += 1
            case 45..<60:
                if let key = keys.randomElement(using: &rng) {
                    let v = Self.randomVector(&rng)
                    try index.insert(key: key, vector: v)
                    model[key] = Self.normalized(v)
                }
            case 60..<90:
                if let key = keys.randomElement(using: &rng) {
                    let wasThere = index.remove(key: key)
                    #expect(wasThere, "step \(step)")
                    model[key] = nil
                    removed.insert(key)
                }
            case 90..<97:
                let count = Int.random(in: 1...40, using: &rng)
                var rows: [Float] = []
                var keys: [UInt64] = []
                for _ in 0..<count {
                    // Mostly new keys, some existing ones updated in the same batch.
                    let key = Bool.random(using: &rng) || keys.isEmpty ? nextKey : keys.randomElement(using: &rng)!
                    if key == nextKey { nextKey += 1 }
                    guard !keys.contains(key) else { continue }
                    let v = Self.randomVector(&rng)
                    rows += v
                    keys.append(key)
                    model[key] = Self.normalized(v)
                }
                try index.insert(contentsOf: rows, keys: keys, threads: 2)
            case 97..<99:
                index = index.compacted(threads: 2)
            default:
                let path = directory.path("model.hnsw")
                try index.save(to: path)
                index = try HNSWIndex.load(from: path)
            }
            #expect(index.count == model.count, "step \(step)")
            if step % 10 == 9 { index._checkInvariants() }

            if step % 100 == 99 {
                for (key, v) in model {
                    let stored = try #require(index.vector(forKey: key), "step \(step): \(key) lost")
                    #expect(zip(stored, v).allSatisfy { abs($0 - $1) < tolerance }, "step \(step): \(key) holds another vector")
                }
                for key in removed where model[key] == nil { #expect(!index.contains(key: key), "step \(step): \(key) came back") }
                var hits = 0
                var wanted = 0
                for _ in 0..<20 {
                    let query = Self.normalized(Self.randomVector(&rng))
                    let found = try index.search(query, k: 10, ef: 80)
                    #expect(found.allSatisfy { model[$0.key] != nil }, "step \(step): a removed key was returned")
                    let truth = model.map { (key: $0.key, score: zip($0.value, query).reduce(0) { $0 + $1.0 * $1.1 }) }
                        .sorted { $0.score > $1.score }.prefix(10).map(\.key)
                    hits += Set(found.map(\.key)).intersection(truth).count
                    wanted += truth.count
                }
                recalls.append(wanted == 0 ? 1 : Double(hits) / Double(wanted))
                // Level 0 stays one connected graph: islands are reached only through the upper
                // levels, and a search restricted to a tag cannot leave the island it starts in.
                #expect(Self.unreachable(index) <= index.count / 100, "step \(step): \(Self.unreachable(index)) nodes unreachable")
            }
        }
        // Removals re-link around the removed node; the graph must stay navigable through them.
        #expect(recalls.min()! >= 0.95, "recall@10 at the checkpoints: \(recalls)")
        #expect(model.count > 300, "the walk kept a sizeable index")
    }

    /// Live nodes that no path of level-0 links from the entry point reaches.
    static func unreachable(_ index: HNSWIndex) -> Int {
        let g = index.storage.view
        guard let entry = index.entryPoint else { return 0 }
        var seen = Set<UInt32>([entry])
        var queue = [entry]
        while let s = queue.popLast() {
            let list = g.links(s, level: 0)
            for j in stride(from: 1, through: Int(list[0]), by: 1) where seen.insert(list[j]).inserted { queue.append(list[j]) }
        }
        return (0..<g.slots).filter { !g.isDeleted(UInt32($0)) && !seen.contains(UInt32($0)) }.count
    }
}
