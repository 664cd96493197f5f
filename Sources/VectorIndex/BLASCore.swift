internal import CBLAS
import Foundation

/// Which of OpenBLAS's kernel sets ("cores") the process uses, and whether it is the right one.
///
/// OpenBLAS picks its core when the library loads, from the CPU's model numbers. A release older
/// than the CPU does not know the model and falls back to its oldest core: Debian 12's 0.3.21 on
/// an Intel Emerald Rapids answers `Prescott` (SSE3), and MiniLM then runs 3-4× slower than with
/// `SkylakeX`. The fix has to happen before the library loads, so the `deja` command re-executes
/// itself once with `OPENBLAS_CORETYPE` set (see `BLASCoreCheck` in the command).
public enum BLASCore {
    /// Set by the `deja` command in the process it re-executes to the core OpenBLAS had chosen
    /// (``MachineProfile`` reports it).
    public static let replacedVariable = "DEJA_BLAS_CORE_REPLACED"

    /// The core OpenBLAS uses in this process (`openblas_get_corename()`).
    public static var name: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build line (`openblas_get_config()`), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ...".
    public static var configuration: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// Cores (lower-cased) whose single-precision kernels use AVX-512.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// Cores whose kernels use AVX2 and FMA (the AVX-512 ones included).
    static let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen", "excavator"])

    /// The core OpenBLAS should use instead of `core` on a CPU of `level`, or nil when `core`
    /// already uses the vector width the CPU has.
    ///
    /// Only a core without AVX2 on a CPU with AVX2 (or AVX-512) is replaced: that is the silent
    /// fallback to an old kernel. A core that uses AVX2 on an AVX-512 CPU (`Haswell` or `Zen` on
    /// Zen 4) is OpenBLAS's own choice and is kept.
    public static func replacement(for core: String, on level: SIMDLevel) -> String? {
        let core = core.lowercased()
        switch level {
        case .portable: return nil
        case .avx2: return avx2Cores.contains(core) ? nil : "Haswell"
        case .avx512, .avx512vnni: return avx2Cores.contains(core) ? nil : "SkylakeX"
        }
    }

    /// A core with wider kernels than `core` for a CPU of `level`, or nil when `core` already uses
    /// the CPU's full width: what an `OPENBLAS_CORETYPE` set by the operator gives up, which Deja
    /// keeps but reports. Beyond ``replacement(for:on:)``, an AVX2 core on an AVX-512 CPU: on an
    /// AMD Zen 5 with OpenBLAS 0.3.21, `Haswell` ran a 4096³ product at 103 GFLOP/s against
    /// `Cooperlake`'s 203, and MiniLM's batches of 32 on one thread 0.6× as fast.
    public static func widerCore(than core: String, on level: SIMDLevel) -> String? {
        if let replacement = replacement(for: core, on: level) { return replacement }
        guard level >= .avx512, !avx512Cores.contains(core.lowercased()) else { return nil }
        return "SkylakeX"
    }

    /// Whether BLAS's matrix product agrees with Deja's own inner products on a fixed product
    /// (48 × 384 times 384 × 24, seeded values), within float rounding: the check after a core is
    /// forced, so that a core that does not run right on this CPU is not kept.
    public static func agreesWithReference() -> Bool {
        let rows = 48, inner = 384, columns = 24
        var generator = SplitMix64(seed: 2004)
        let a = (0..<(rows * inner)).map { _ in Float.random(in: -1..<1, using: &generator) }
        let b = (0..<(columns * inner)).map { _ in Float.random(in: -1..<1, using: &generator) }
        var c = [Float](repeating: .nan, count: rows * columns)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(columns), Int32(inner),
                    1, a, Int32(inner), b, Int32(inner), 0, &c, Int32(columns))
        for r in 0..<rows {
            for j in 0..<columns {
                var exact: Double = 0
                for i in 0..<inner { exact += Double(a[r * inner + i]) * Double(b[j * inner + i]) }
                guard abs(Double(c[r * columns + j]) - exact) <= 1e-3 else { return false }
            }
        }
        return true
    }
}
