internal import CBLAS
import Foundation

/// The machine a number was measured on: CPU model, SIMD level and BLAS core.
///
/// Every `deja bench` prints it first and `deja serve` logs it at start, because a throughput
/// figure means nothing without the CPU and kernels it came from (the same binary runs 3-4×
/// apart on one CPU depending on the BLAS core alone).
public struct MachineProfile: Sendable, Codable, CustomStringConvertible {
    /// The CPU's model name as the kernel reports it ("AMD EPYC 7763 64-Core Processor").
    public var cpu: String
    public var logicalCPUs: Int
    /// The best kernel level the CPU runs.
    public var simd: SIMDLevel
    /// The level the kernels use (lower only when `DEJA_SIMD` says so).
    public var kernels: SIMDLevel
    /// Instruction-set extensions beyond the level that matter for this work: VNNI, BF16, AMX.
    public var extensions: [String]
    /// OpenBLAS's core in use, e.g. "Haswell", "SkylakeX", "Cooperlake".
    public var blasCore: String
    /// The core OpenBLAS chose itself, when `deja` replaced it (see ``BLASCore``).
    public var blasCoreReplaced: String?
    /// OpenBLAS's version, e.g. "0.3.21".
    public var blasVersion: String
    /// Whether the operator chose the core with `OPENBLAS_CORETYPE` (Deja keeps that choice).
    public var blasCoreFromEnvironment: Bool
    /// A core with wider kernels for this CPU, when the operator's choice holds OpenBLAS to
    /// narrower ones (see ``BLASCore/widerCore(than:on:)``).
    public var blasCoreWider: String?

    /// This process's machine.
    public static var current: MachineProfile {
        let environment = ProcessInfo.processInfo.environment
        let bits = deja_cpu_extensions()
        var extensions: [String] = []
        if bits & 1 != 0 { extensions.append("VNNI") }
        if bits & 2 != 0 { extensions.append("BF16") }
        if bits & 4 != 0 { extensions.append("AMX") }
        let config = BLASCore.configuration.split(separator: " ")
        let version = config.count > 1 && config[0] == "OpenBLAS" ? String(config[1]) : "?"
        let replaced = environment[BLASCore.replacedVariable]
        let fromEnvironment = replaced == nil && environment["OPENBLAS_CORETYPE"] != nil
        let core = BLASCore.name
        return MachineProfile(
            cpu: cpuModel(), logicalCPUs: ProcessInfo.processInfo.activeProcessorCount,
            simd: .supported, kernels: .active, extensions: extensions, blasCore: core,
            blasCoreReplaced: replaced, blasVersion: version, blasCoreFromEnvironment: fromEnvironment,
            blasCoreWider: fromEnvironment ? BLASCore.widerCore(than: core, on: .supported) : nil)
    }

    /// What the operator's `OPENBLAS_CORETYPE` costs, in one line, or nil when it costs nothing:
    /// `deja serve` logs it as a warning (the core is kept, as chosen).
    public var blasCoreAdvice: String? {
        guard blasCoreFromEnvironment, let blasCoreWider else { return nil }
        return "OPENBLAS_CORETYPE=\(blasCore) holds OpenBLAS to narrower kernels than this CPU runs (\(blasCoreWider)): "
            + "unset it, or set it to \(blasCoreWider), for faster matrix products (MiniLM batches, exact search, index builds)"
    }

    /// One line: `cpu: AMD EPYC 7763 (2 logical CPUs); simd: AVX-512 +VNNI +BF16; kernels: AVX-512+VNNI; blas: OpenBLAS 0.3.21 Cooperlake`.
    public var description: String {
        // VNNI is listed with the extensions; the level's own name would say it twice.
        var simdText = (simd == .avx512vnni ? SIMDLevel.avx512 : simd).description
        for e in extensions { simdText += " +\(e)" }
        var blas = "OpenBLAS \(blasVersion) \(blasCore)"
        if let blasCoreReplaced { blas += " (set by deja; OpenBLAS chose \(blasCoreReplaced))" }
        if blasCoreFromEnvironment {
            blas += blasCoreWider.map { " (OPENBLAS_CORETYPE from the environment; this CPU runs \($0))" }
                ?? " (OPENBLAS_CORETYPE from the environment)"
        }
        return "cpu: \(cpu) (\(logicalCPUs) logical CPUs); simd: \(simdText); kernels: \(kernels); blas: \(blas)"
    }

    /// The first "model name" of /proc/cpuinfo, or the architecture where there is none.
    static func cpuModel() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if !name.isEmpty { return name.split(separator: " ").joined(separator: " ") }
                }
            }
        }
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown CPU"
        #endif
    }
}
