@testable import Embedding
import Foundation
import Testing
import TestSupport
import VectorIndex

/// A batch split by sentences between threads (``BertEncoder/encode(_:)`` with a team) must
/// give every sentence the vector it gets alone, in the batch's order.
@Suite("BertEncoder split by sentences")
struct BertEncoderSplitTests {
    func weights() throws -> BertWeights {
        if let missing = MiniLMModel.missing { Issue.record(Comment(rawValue: missing)) }
        let folder = MiniLMModel.folder
        return try BertWeights(file: SafeTensorsFile(path: "\(folder)/model.safetensors"),
                               shape: BertShape(contentsOf: "\(folder)/config.json"))
    }

    @Test("a batch split between two threads gives each sentence its vector alone, in order")
    func splitMatchesAlone() throws {
        let weights = try weights()
        let alone = BertEncoder(weights: weights)
        let team = BertEncoder(weights: weights, helpers: 1, share: CoreShare(cores: 2))
        // The reference sentences (1 to 256 tokens), then 40 sentences of 16 tokens: one batch that
        // divides evenly, large enough for OpenBLAS were it not split.
        let references = try MiniLMModel.references().compactMap(\.token_ids)
        var generator = SplitMix64(seed: 5)
        let uniform = (0..<40).map { _ in [101] + (0..<14).map { _ in Int32.random(in: 1000..<30000, using: &generator) } + [102] }
        // Without the packed kernel (no AVX2) batches are not split, and the vectors must still match.
        let splits = weights.packed ? 1 : 0
        for batch in [references, uniform, Array(uniform.prefix(3))] {
            let before = team.splitBatches
            let vectors = team.encode(batch)
            #expect(team.splitBatches == before + splits, "a batch of \(batch.count) was not split")
            #expect(vectors.count == batch.count)
            for (i, sequence) in batch.enumerated() {
                let expected = alone.encode([sequence])[0]
                let diff = zip(vectors[i], expected).map { abs($0 - $1) }.max() ?? 1
                #expect(diff < 1e-5, "sentence \(i) of \(batch.count) (\(sequence.count) tokens): max difference \(diff)")
            }
        }
        // One long sentence and a short one do not divide: the products are split instead.
        let uneven = [uniform[0] + uniform[1] + uniform[2] + uniform[3], uniform[4]]
        let before = team.splitBatches
        let vectors = team.encode(uneven)
        #expect(team.splitBatches == before)
        for (i, sequence) in uneven.enumerated() {
            let diff = zip(vectors[i], alone.encode([sequence])[0]).map { abs($0 - $1) }.max() ?? 1
            #expect(diff < 1e-5, "uneven sentence \(i): max difference \(diff)")
        }
    }

    @Test("shares keep every sentence once, in order, none empty, each near an even part of the tokens")
    func shares() {
        var generator = SplitMix64(seed: 9)
        for _ in 0..<500 {
            let count = Int.random(in: 1...40, using: &generator)
            let ways = Int.random(in: 1...5, using: &generator)
            let uniform = Bool.random(using: &generator)
            let length = Int.random(in: 1...64, using: &generator)
            let batch = (0..<count).map { i in
                [Int32](repeating: Int32(i), count: uniform ? length : Int.random(in: 1...64, using: &generator))
            }
            let tokens = batch.reduce(0) { $0 + $1.count }
            let shares = BertEncoder.shares(of: batch, tokens: tokens, ways: ways)
            #expect(shares.count == min(ways, count))
            #expect(shares.allSatisfy { !$0.isEmpty })
            #expect(Array(shares.joined()) == batch)
            if uniform {
                // Sentences of one length: each share within one sentence of an even part.
                for share in shares {
                    #expect(abs(share.count * shares.count - count) <= shares.count, "\(shares.map(\.count)) of \(count)")
                }
            }
        }
    }
}
