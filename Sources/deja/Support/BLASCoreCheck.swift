import Foundation
import VectorIndex

/// Puts OpenBLAS on the kernels this CPU deserves before any command runs.
///
/// OpenBLAS chooses its core when the library loads, before `main`; an old release on a new CPU
/// falls back to `Prescott` (SSE3) silently (see ``BLASCore``). So when the core in use lacks the
/// AVX2 the CPU has, `deja` sets `OPENBLAS_CORETYPE` and executes itself again, once; the new
/// process checks the forced core against a reference product and goes back to OpenBLAS's own
/// choice if it disagrees. An `OPENBLAS_CORETYPE` set by the operator is always kept.
///
/// `DEJA_ASSUME_BLAS_CORE` makes the check act as if OpenBLAS had chosen that core: how the tests
/// drive this path on a machine whose OpenBLAS chooses right.
enum BLASCoreCheck {
    static let replacedVariable = BLASCore.replacedVariable
    static let rejectedVariable = "DEJA_BLAS_CORE_REJECTED"

    static func run() {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment[replacedVariable] {
            if environment[rejectedVariable] == nil, !BLASCore.agreesWithReference() {
                warn("deja: OpenBLAS's \(BLASCore.name) kernels disagree with the reference product on this CPU; "
                    + "going back to \(chosen)")
                setenv("OPENBLAS_CORETYPE", chosen, 1)
                setenv(rejectedVariable, "1", 1)
                unsetenv(replacedVariable)
                reexecute()
            }
            return
        }
        guard environment["OPENBLAS_CORETYPE"] == nil else { return }
        let chosen = environment["DEJA_ASSUME_BLAS_CORE"] ?? BLASCore.name
        guard let better = BLASCore.replacement(for: chosen, on: .supported) else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        setenv(replacedVariable, chosen, 1)
        unsetenv("DEJA_ASSUME_BLAS_CORE")
        reexecute()
        // Still here: the exec failed. Run on as we are, slower, and say so.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(replacedVariable)
        warn("deja: OpenBLAS runs its \(chosen) kernels on a CPU with \(SIMDLevel.supported); "
            + "start deja with OPENBLAS_CORETYPE=\(better) for 3-4× faster matrix products")
    }

    /// Replaces this process by a fresh run of the same executable with the same arguments.
    private static func reexecute() {
        fflush(nil)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }

    private static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
