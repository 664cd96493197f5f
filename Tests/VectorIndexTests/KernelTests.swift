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

    @Test("the scan for a score above a threshold finds the first one at every position and length, on each level",
          arguments: SIMDLevel.runnable)
    func firstAbove(level: SIMDLevel) {
        for n in Self.lengths {
            let low = [Float](repeating: 0.25, count: n)
            #expect(VectorMath.firstAbove(low, threshold: 0.5, level: level) == n, "\(level), n=\(n): none above")
            #expect(VectorMath.firstAbove(low, threshold: 0.25, level: level) == n, "\(level), n=\(n): equal is not above")
            for first in Set([0, n / 3, n / 2, n - 1]) where first >= 0 && first < n {
                var scores = low
                scores[first] = 0.75
                if first + 1 < n { scores[n - 1] = 0.9 }  // a later one is not the answer
                if first > 0 { scores[first - 1] = .nan }  // NaN is never above
                #expect(VectorMath.firstAbove(scores, threshold: 0.5, level: level) == first, "\(level), n=\(n), first \(first)")
            }
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

    @Test("the int8 kernels of each level agree with exact sums: float × int8, int8 × int8, gathered rows",
          arguments: SIMDLevel.runnable)
    func int8KernelsAgree(level: SIMDLevel) {
        var generator = SplitMix64(seed: 8)
        for n in Self.lengths {
            let q = (0..<n).map { _ in Float.random(in: -1..<1, using: &generator) }
            let a = (0..<n).map { _ in Int8.random(in: -127...127, using: &generator) }
            let b = (0..<n).map { _ in Int8.random(in: -127...127, using: &generator) }
            let exactMixed = zip(q, a).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let exactCodes = zip(a, b).reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) }
            let mixed = VectorMath.dot(q, codes: a, count: n, level: level.rawValue)
            #expect(abs(Double(mixed) - exactMixed) <= 1e-3 * Double(max(n, 1)), "\(level), n=\(n): \(mixed) vs \(exactMixed)")
            #expect(VectorMath.dot(codes: a, b, count: n, level: level.rawValue) == exactCodes, "\(level), n=\(n)")
        }
        let dimension = 100
        let codes = (0..<(20 * dimension)).map { _ in Int8.random(in: -127...127, using: &generator) }
        let scales = (0..<20).map { _ in Float.random(in: 0.001..<0.01, using: &generator) }
        let query = (0..<dimension).map { _ in Float.random(in: -1..<1, using: &generator) }
        let rows: [UInt32] = [19, 0, 5, 5, 12]
        var out = [Float](repeating: .nan, count: rows.count)
        VectorMath.dotRows(query: query, codes: codes, scales: scales, dimension: dimension, rows: rows,
                           count: rows.count, into: &out, level: level.rawValue)
        for (i, row) in rows.enumerated() {
            let single = Array(codes[Int(row) * dimension..<(Int(row) + 1) * dimension])
            #expect(out[i] == scales[Int(row)] * VectorMath.dot(query, codes: single, count: dimension, level: level.rawValue))
        }
        // The same rows against the query rounded to int8 (the VNNI search): integer products.
        let queryCodes = (0..<dimension).map { _ in Int8.random(in: -127...127, using: &generator) }
        VectorMath.dotRows(queryCodes: queryCodes, queryScale: 0.5, codes: codes, scales: scales, dimension: dimension,
                           rows: rows, count: rows.count, into: &out, level: level.rawValue)
        for (i, row) in rows.enumerated() {
            let exact = zip(queryCodes, codes[Int(row) * dimension..<(Int(row) + 1) * dimension])
                .reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) }
            #expect(out[i] == 0.5 * scales[Int(row)] * Float(exact), "\(level), row \(row)")
        }
    }

    @Test("quantizing keeps a vector's direction and makes the decoded vector unit length")
    func quantize() {
        var generator = SplitMix64(seed: 9)
        for n in [1, 7, 384] {
            let raw = (0..<n).map { _ in Float.random(in: -1..<1, using: &generator) }
            let v = try! VectorMath.normalized(raw, dimension: n)
            var codes = [Int8](repeating: 0, count: n)
            let scale = VectorMath.quantize(v, dimension: n, into: &codes)
            #expect(codes.map { abs(Int($0)) }.max() == 127)
            let decoded = codes.map { Float($0) * scale }
            #expect(abs(decoded.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
            #expect(VectorMath.dot(decoded, v) > 0.999, "n=\(n)")
            // Each code is its component scaled so the largest is 127, rounded to nearest even.
            let factor = 127 / v.map { abs($0) }.max()!
            #expect(codes == v.map { Int8(($0 * factor).rounded(.toNearestOrEven)) }, "n=\(n)")
        }
        // Halves round to even: 2.5 → 2, 3.5 → 4, -2.5 → -2 (the largest, 127, sets the scale).
        var codes = [Int8](repeating: 1, count: 4)
        _ = VectorMath.quantize([127, 2.5, 3.5, -2.5], dimension: 4, into: &codes)
        #expect(codes == [127, 2, 4, -2])
        #expect(VectorMath.quantize([0, 0, 0, 0], dimension: 4, into: &codes) == 0 && codes == [0, 0, 0, 0])
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

    @Test("an operator's core narrower than the CPU is reported with the wider one; a full-width core is not")
    func widerCore() {
        #expect(BLASCore.widerCore(than: "Haswell", on: .avx512vnni) == "SkylakeX")
        #expect(BLASCore.widerCore(than: "Zen", on: .avx512) == "SkylakeX")
        #expect(BLASCore.widerCore(than: "Prescott", on: .avx2) == "Haswell")
        for full in ["Cooperlake", "SkylakeX", "SAPPHIRERAPIDS"] {
            #expect(BLASCore.widerCore(than: full, on: .avx512vnni) == nil, "\(full)")
        }
        #expect(BLASCore.widerCore(than: "Haswell", on: .avx2) == nil)
        #expect(BLASCore.widerCore(than: "Prescott", on: .portable) == nil)
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
