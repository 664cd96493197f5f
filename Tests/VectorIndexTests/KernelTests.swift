import Foundation
import Testing
@testable import VectorIndex

@Suite("Distance kernels and BLAS core")
struct KernelTests {
    /// Lengths around every unroll and mask boundary of the AVX2 (8, 32) and AVX-512 (16, 64) loops.
    static let lengths = Array(0...70) + [95, 96, 97, 127, 128, 129, 383, 384, 385, 768, 1000]

    @Test("every kernel level this CPU runs agrees with a double-precision inner product", arguments: SIMDLevel.runnable)
    func dotAgrees(level: SIMDLevel) {
        var generator = SplitMix64(seed: 5)
        for n in Self.lengths {
            let a = (0..<n).map { _ in Float.random(in: -1..<1, using: &generator) }
            let b = (0..<n).map { _ in Float.random(in: -1..<1, using: &generator) }
            let exact = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let got = VectorMath.dot(a, b, level: level)
            #expect(abs(Double(got) - exact) <= 1e-5 * Double(max(n, 1)), "\(level), n=\(n): \(got) vs \(exact)")
        }
    }

    @Test("the gathered-rows kernel of each level equals its single inner products", arguments: SIMDLevel.runnable)
    func dotRowsAgree(level: SIMDLevel) {
        var generator = SplitMix64(seed: 6)
        for dimension in [3, 16, 100, 384] {
            let rowCount = 50
            let base = (0..<(rowCount * dimension)).map { _ in Float.random(in: -1..<1, using: &generator) }
            let query = (0..<dimension).map { _ in Float.random(in: -1..<1, using: &generator) }
            let rows: [UInt32] = [49, 0, 7, 7, 23, 1, 48]
            var out = [Float](repeating: .nan, count: rows.count)
            VectorMath.dotRows(query: query, base: base, dimension: dimension, rows: rows, count: rows.count, into: &out,
                               level: level.rawValue)
            for (i, row) in rows.enumerated() {
                let slice = Array(base[Int(row) * dimension..<(Int(row) + 1) * dimension])
                #expect(out[i] == VectorMath.dot(query, slice, level: level), "\(level), dimension \(dimension), row \(row)")
            }
        }
    }

    @Test("a core without AVX2 on a CPU with it is replaced; OpenBLAS's own AVX2 and AVX-512 choices are kept")
    func coreReplacement() {
        #expect(BLASCore.replacement(for: "Prescott", on: .avx512) == "SkylakeX")
        #expect(BLASCore.replacement(for: "Prescott", on: .avx2) == "Haswell")
        #expect(BLASCore.replacement(for: "Sandybridge", on: .avx2) == "Haswell")
        #expect(BLASCore.replacement(for: "Nehalem", on: .avx512) == "SkylakeX")
        #expect(BLASCore.replacement(for: "Core2", on: .portable) == nil)
        for kept in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SAPPHIRERAPIDS"] {
            #expect(BLASCore.replacement(for: kept, on: .avx512) == nil, "\(kept)")
        }
        #expect(BLASCore.replacement(for: "Haswell", on: .avx2) == nil)
    }

    @Test("the BLAS core in use computes the reference product right, and the machine line names it")
    func machineLine() throws {
        #expect(BLASCore.agreesWithReference())
        let machine = MachineProfile.current
        #expect(machine.simd == .supported && machine.blasCore == BLASCore.name)
        #expect(machine.description.contains("blas: OpenBLAS \(machine.blasVersion) \(machine.blasCore)"))
        let decoded = try JSONDecoder().decode(MachineProfile.self, from: JSONEncoder().encode(machine))
        #expect(decoded.simd == machine.simd && decoded.kernels == machine.kernels)
    }
}
