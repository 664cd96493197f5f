import Foundation
import Testing
import TestSupport
import VectorIndex

@Suite("deja puts OpenBLAS on the right core")
struct BLASCoreTests {
    /// `machine` of `deja bench index --json` on a small set, run with `environment` and without
    /// an `OPENBLAS_CORETYPE` this process has (some machines set one for everything they run).
    static func machine(_ environment: [String: String]) throws -> [String: Any] {
        let run = try DejaBinary.run(
            ["bench", "index", "--n", "300", "--dim", "16", "--queries", "5", "--ef", "16", "--json"],
            environment: environment, removing: ["OPENBLAS_CORETYPE"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        return try #require(report?["machine"] as? [String: Any])
    }

    @Test("a fallback core on a CPU with AVX2 is replaced by re-executing with OPENBLAS_CORETYPE, and the bench says so")
    func fallbackReplaced() throws {
        let own = try Self.machine([:])
        let simd = try #require(own["simd"] as? String)
        // As if OpenBLAS had chosen its SSE3 kernels, as 0.3.21 does on a CPU newer than itself
        let forced = try Self.machine(["DEJA_ASSUME_BLAS_CORE": "Prescott"])
        switch simd {
        case "avx512", "avx512vnni":
            #expect(forced["blasCore"] as? String == "SkylakeX")
            #expect(forced["blasCoreReplaced"] as? String == "Prescott")
        case "avx2":
            #expect(forced["blasCore"] as? String == "Haswell")
            #expect(forced["blasCoreReplaced"] as? String == "Prescott")
        default:
            #expect(forced["blasCoreReplaced"] == nil, "nothing better to choose on a CPU without AVX2")
        }
        // Left to itself, deja replaces the core OpenBLAS chose only when it is a fallback: on
        // most machines nothing, on an Emerald Rapids with OpenBLAS 0.3.21 Prescott.
        let chosen = try #require((own["blasCoreReplaced"] ?? own["blasCore"]) as? String)
        #expect(own["blasCoreReplaced"] == nil || BLASCore.replacement(for: chosen, on: .supported) != nil)
        #expect(own["blasCoreFromEnvironment"] as? Bool == false)
    }

    @Test("an OPENBLAS_CORETYPE the operator set is kept, even a slow one, and what it gives up is reported")
    func operatorChoiceKept() throws {
        let machine = try Self.machine(["OPENBLAS_CORETYPE": "Prescott", "DEJA_ASSUME_BLAS_CORE": "Prescott"])
        #expect(machine["blasCore"] as? String == "Prescott")
        #expect(machine["blasCoreReplaced"] == nil)
        #expect(machine["blasCoreFromEnvironment"] as? Bool == true)
        #expect(machine["blasCoreWider"] as? String == BLASCore.widerCore(than: "Prescott", on: .supported))
        // The text header says it too, where a figure's reader looks.
        let run = try DejaBinary.run(
            ["bench", "index", "--n", "300", "--dim", "16", "--queries", "5", "--ef", "16"],
            environment: ["OPENBLAS_CORETYPE": "Prescott"])
        let header = run.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("Prescott (OPENBLAS_CORETYPE from the environment"), "\(header)")
    }

    @Test("DEJA_SIMD lowers the kernel level and is reported; a nonsense value is refused in one line")
    func simdOverride() throws {
        #expect(try Self.machine(["DEJA_SIMD": "portable"])["kernels"] as? String == "portable")
        let run = try DejaBinary.run(
            ["bench", "index", "--n", "300", "--dim", "16", "--queries", "5", "--ef", "16", "--json"],
            environment: ["DEJA_SIMD": "avx1024"])
        #expect(run.stderr.contains("DEJA_SIMD=avx1024 is not one of portable, avx2, avx512"))
    }
}
