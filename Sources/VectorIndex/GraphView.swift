/// Unowned pointers into an ``HNSWStorage``, valid until the storage grows or is freed.
/// `@unchecked Sendable`: raw pointers, read by concurrent searches under ``SharedIndex``'s
/// read lock and written only under its write lock.
///
/// Every read of a vector goes through ``similarity(_:_:)``, ``similarity(between:and:)`` and
/// ``dotRows(query:rows:count:into:)``, which branch once on the encoding: the graph code is
/// the same for float32 and int8 vectors.
struct GraphView: @unchecked Sendable {
    let vectors: UnsafeMutablePointer<Float>
    /// The int8 codes, or `nil` when vectors are float32.
    let codes: UnsafeMutablePointer<Int8>?
    let scales: UnsafeMutablePointer<Float>
    let links0: UnsafeMutablePointer<UInt32>
    let upperBlock: UnsafeMutablePointer<UInt32>
    let upperLinks: UnsafeMutablePointer<UInt32>
    let flags: UnsafeMutablePointer<UInt8>
    let keys: UnsafeMutablePointer<UInt64>
    let tags: UnsafeMutablePointer<UInt32>
    let levels: UnsafeMutablePointer<UInt8>
    let dimension: Int
    let stride0: Int
    let strideUpper: Int
    /// Slots in use when the view was taken.
    let slots: Int

    /// The link list of `slot` on `level`: element 0 is the count, then the linked slots.
    @inline(__always)
    func links(_ slot: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 {
            return links0 + Int(slot) * stride0
        }
        return upperLinks + (Int(upperBlock[Int(slot)]) + level - 1) * strideUpper
    }

    /// Where the vector of `slot` starts, for prefetching.
    @inline(__always)
    func vectorAddress(_ slot: UInt32) -> UnsafeRawPointer {
        if let codes { return UnsafeRawPointer(codes + Int(slot) * dimension) }
        return UnsafeRawPointer(vectors + Int(slot) * dimension)
    }

    /// Starts loading the vector of `slot`: the whole row for int8 codes (six cache lines at 384
    /// dimensions), whose product is too short to hide a miss per line, and the row's scale,
    /// which lives in an array of its own and missed as often as the row; the first line for
    /// float32 rows, whose 24 lines the hardware prefetcher follows once the product starts.
    @inline(__always)
    func prefetchVector(_ slot: UInt32) {
        if let codes {
            VectorMath.prefetch(UnsafeRawPointer(scales + Int(slot)))
            VectorMath.prefetch(UnsafeRawPointer(codes + Int(slot) * dimension), bytes: dimension)
        } else {
            VectorMath.prefetch(UnsafeRawPointer(vectors + Int(slot) * dimension))
        }
    }

    /// The cosine similarity of a normalised float `query` and the vector of `slot`.
    @inline(__always)
    func similarity(_ query: UnsafePointer<Float>, _ slot: UInt32) -> Float {
        if let codes {
            return scales[Int(slot)] * VectorMath.dot(query, codes: codes + Int(slot) * dimension, count: dimension)
        }
        return VectorMath.dot(query, vectors + Int(slot) * dimension, count: dimension)
    }

    /// The similarity of a query rounded to int8 (`queryCodes`, `queryScale`, from
    /// `VectorMath.quantize`) and the vector of `slot`; int8 vectors only.
    @inline(__always)
    func similarity(queryCodes: UnsafePointer<Int8>, queryScale: Float, _ slot: UInt32) -> Float {
        queryScale * scales[Int(slot)]
            * Float(VectorMath.dot(codes: queryCodes, codes! + Int(slot) * dimension, count: dimension))
    }

    /// The cosine similarity of the vectors of two slots.
    @inline(__always)
    func similarity(between a: UInt32, and b: UInt32) -> Float {
        if let codes {
            let sum = VectorMath.dot(codes: codes + Int(a) * dimension, codes + Int(b) * dimension, count: dimension)
            return scales[Int(a)] * scales[Int(b)] * Float(sum)
        }
        return VectorMath.dot(vectors + Int(a) * dimension, vectors + Int(b) * dimension, count: dimension)
    }

    /// `out[r]` = the similarity of `query` and the vector of slot `rows[r]`.
    @inline(__always)
    func dotRows(query: UnsafePointer<Float>, rows: UnsafePointer<UInt32>, count: Int, into out: UnsafeMutablePointer<Float>) {
        if let codes {
            VectorMath.dotRows(query: query, codes: codes, scales: scales, dimension: dimension, rows: rows,
                               count: count, into: out)
        } else {
            VectorMath.dotRows(query: query, base: vectors, dimension: dimension, rows: rows, count: count, into: out)
        }
    }

    /// `out[r]` = the similarity of a query rounded to int8 (`queryCodes`, `queryScale`, from
    /// `VectorMath.quantize`) and the vector of slot `rows[r]`; int8 vectors only.
    @inline(__always)
    func dotRows(
        queryCodes: UnsafePointer<Int8>, queryScale: Float, rows: UnsafePointer<UInt32>, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        VectorMath.dotRows(queryCodes: queryCodes, queryScale: queryScale, codes: codes!, scales: scales,
                           dimension: dimension, rows: rows, count: count, into: out)
    }

    /// Whether searches of this graph score with the query rounded to int8 (int8 vectors on a CPU
    /// with VNNI): their similarities are then estimates, and a search re-scores what it returns.
    var quantizesQueries: Bool { codes != nil && VectorMath.quantizesQueries }

    /// Stores the normalised `vector` as the vector of `slot`, encoded as the storage's vectors are.
    func store(_ vector: UnsafePointer<Float>, at slot: UInt32) {
        if let codes {
            scales[Int(slot)] = VectorMath.quantize(vector, dimension: dimension, into: codes + Int(slot) * dimension)
        } else {
            (vectors + Int(slot) * dimension).update(from: vector, count: dimension)
        }
    }

    /// Writes the vector of `slot` as floats (decoded when stored as int8) to `destination`.
    func decode(_ slot: UInt32, into destination: UnsafeMutablePointer<Float>) {
        if let codes {
            let row = codes + Int(slot) * dimension
            let scale = scales[Int(slot)]
            for i in 0..<dimension { destination[i] = Float(row[i]) * scale }
        } else {
            destination.update(from: vectors + Int(slot) * dimension, count: dimension)
        }
    }

    @inline(__always)
    func isDeleted(_ slot: UInt32) -> Bool {
        flags[Int(slot)] & HNSWStorage.deletedFlag != 0
    }

    @inline(__always)
    func level(_ slot: UInt32) -> Int {
        Int(levels[Int(slot)])
    }
}
