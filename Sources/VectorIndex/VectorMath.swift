internal import CBLAS

/// The distance kernels of the index.
///
/// Cosine similarity is the inner product of L2-normalised vectors, so every vector is
/// normalised once (on insert and on query) and the kernels only multiply. The kernel (AVX-512,
/// AVX2+FMA or portable) is chosen once, at run time: ``SIMDLevel/active``.
public enum VectorMath {
    /// The C kernels take the dispatch decision as an argument, so a hot loop reads the global once.
    static let kernel: Int32 = SIMDLevel.active.rawValue

    /// The inner product of two vectors of `count` floats.
    ///
    /// - Complexity: O(`count`).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        deja_dot(kernel, a, b, count)
    }

    /// The inner product with the kernel of `level` (at most ``SIMDLevel/supported``): what the
    /// tests use to check each path against the portable one on every machine.
    public static func dot(_ a: [Float], _ b: [Float], level: SIMDLevel) -> Float {
        precondition(a.count == b.count && level <= .supported, "dot: lengths differ or level \(level) not runnable")
        return deja_dot(level.rawValue, a, b, a.count)
    }

    /// The index of the first score above `threshold`, or `scores.count`, with the scan of
    /// `level` (at most ``SIMDLevel/supported``): what ``TopK`` ranks blocks of scores with, here
    /// for the tests to check each level against the portable one.
    public static func firstAbove(_ scores: [Float], threshold: Float, level: SIMDLevel) -> Int {
        precondition(level <= .supported, "firstAbove: level \(level) not runnable")
        return deja_first_above(level.rawValue, scores, scores.count, threshold)
    }

    /// The inner product of two equally long arrays.
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dot: lengths differ (\(a.count) and \(b.count))")
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in deja_dot(kernel, pa.baseAddress!, pb.baseAddress!, a.count) }
        }
    }

    /// Checks `source` (length, finiteness, non-zero length) and writes its L2-normalised copy to
    /// `destination`, which must have room for `dimension` floats.
    ///
    /// The sum of squares is accumulated in `Double`, so that large finite values do not overflow
    /// to infinity and tiny ones do not underflow to zero.
    ///
    /// - Throws: ``IndexError/dimensionMismatch(expected:got:)``, ``IndexError/nonFiniteValue(position:)``
    ///   or ``IndexError/zeroVector``.
    public static func normalize(
        _ source: UnsafeBufferPointer<Float>,
        dimension: Int,
        into destination: UnsafeMutablePointer<Float>
    ) throws(IndexError) {
        guard source.count == dimension else {
            throw .dimensionMismatch(expected: dimension, got: source.count)
        }
        var sumOfSquares: Double = 0
        for i in 0..<dimension {
            let x = source[i]
            guard x.isFinite else { throw .nonFiniteValue(position: i) }
            sumOfSquares += Double(x) * Double(x)
        }
        guard sumOfSquares > 0 else { throw .zeroVector }
        let scale = 1 / sumOfSquares.squareRoot()
        for i in 0..<dimension {
            destination[i] = Float(Double(source[i]) * scale)
        }
    }

    /// The L2-normalised copy of `vector`.
    ///
    /// - Throws: as ``normalize(_:dimension:into:)``.
    public static func normalized(_ vector: [Float], dimension: Int) throws(IndexError) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        try vector.withUnsafeBufferPointer { (source) throws(IndexError) in
            try out.withUnsafeMutableBufferPointer { (destination) throws(IndexError) in
                try normalize(source, dimension: dimension, into: destination.baseAddress!)
            }
        }
        return out
    }

    /// `out[r] = <query, base[rows[r]]>` for row-major `base` with `dimension` floats per row,
    /// prefetching each next row while the current one is multiplied.
    static func dotRows(
        query: UnsafePointer<Float>,
        base: UnsafePointer<Float>,
        dimension: Int,
        rows: UnsafePointer<UInt32>,
        count: Int,
        into out: UnsafeMutablePointer<Float>,
        level: Int32 = kernel
    ) {
        deja_dot_rows(level, query, base, dimension, rows, count, out)
    }

    /// Σ `query[i] · codes[i]` for a float query and int8 codes (the caller applies the scale).
    @inline(__always)
    static func dot(_ query: UnsafePointer<Float>, codes: UnsafePointer<Int8>, count: Int, level: Int32 = kernel) -> Float {
        deja_dot_f32_i8(level, query, codes, count)
    }

    /// Σ `a[i] · b[i]` of two int8 code vectors, exact.
    @inline(__always)
    static func dot(codes a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int, level: Int32 = kernel) -> Int32 {
        deja_dot_i8_i8(level, a, b, count)
    }

    /// `out[r] = scales[rows[r]] · <query, codes[rows[r]]>`: ``dotRows(query:base:dimension:rows:count:into:level:)``
    /// over int8 rows.
    static func dotRows(
        query: UnsafePointer<Float>,
        codes: UnsafePointer<Int8>,
        scales: UnsafePointer<Float>,
        dimension: Int,
        rows: UnsafePointer<UInt32>,
        count: Int,
        into out: UnsafeMutablePointer<Float>,
        level: Int32 = kernel
    ) {
        deja_dot_rows_i8(level, query, codes, scales, dimension, rows, count, out)
    }

    /// `out[r] = queryScale · scales[rows[r]] · <queryCodes, codes[rows[r]]>`: int8 rows against
    /// a query rounded to int8 as well, every product in integers.
    static func dotRows(
        queryCodes: UnsafePointer<Int8>,
        queryScale: Float,
        codes: UnsafePointer<Int8>,
        scales: UnsafePointer<Float>,
        dimension: Int,
        rows: UnsafePointer<UInt32>,
        count: Int,
        into out: UnsafeMutablePointer<Float>,
        level: Int32 = kernel
    ) {
        deja_dot_rows_i8_i8(level, queryCodes, queryScale, codes, scales, dimension, rows, count, out)
    }

    /// Whether a graph search over int8 vectors rounds its query to int8 too: where the CPU
    /// multiplies bytes in one instruction (VNNI), which beats widening each code to a float.
    static let quantizesQueries = kernel >= SIMDLevel.avx512vnni.rawValue

    /// Rounds the normalised `vector` to int8 `codes` (its largest component to ±127) and
    /// returns the scale that makes the decoded vector (`codes · scale`) unit length, so that a
    /// stored vector still scores 1 against itself.
    static func quantize(_ vector: UnsafePointer<Float>, dimension: Int, into codes: UnsafeMutablePointer<Int8>) -> Float {
        let sumOfSquares = deja_quantize_i8(vector, dimension, codes)
        return sumOfSquares > 0 ? Float(1 / Double(sumOfSquares).squareRoot()) : 0
    }

    /// Sets how many threads OpenBLAS uses for matrix products (`FlatIndex` batches, bulk builds).
    /// Benchmarks pin it to 1 to compare with single-threaded references.
    public static func setBLASThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(max(threads, 1)))
    }

    /// Hints the CPU to load the cache line at `pointer`.
    @inline(__always)
    static func prefetch(_ pointer: UnsafeRawPointer) {
        deja_prefetch(pointer)
    }

    /// Hints the CPU to load the `bytes` bytes at `pointer`, a cache line at a time.
    @inline(__always)
    static func prefetch(_ pointer: UnsafeRawPointer, bytes: Int) {
        deja_prefetch_range(pointer, bytes)
    }
}
