import CBLAS

/// A projection matrix, `[inputs, outputs]` row-major, and, where the CPU has AVX2 and FMA, the
/// same matrix packed into panels of 16 columns for short products (`deja_gemm_packed`).
struct ProjectionWeight {
    var matrix: UnsafePointer<Float>
    var panels: UnsafePointer<Float>?
    var inputs: Int
    var outputs: Int
}
