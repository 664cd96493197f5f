internal import CBLAS
import HeapModule

/// Exact nearest-neighbour search by cosine similarity: every query is compared with every
/// vector, with BLAS (`cblas_sgemv` for one query, `cblas_sgemm` for a batch).
///
/// ```swift
/// var flat = try FlatIndex(dimension: 384)
/// try flat.insert(key: 1, vector: embedding)
/// let exact = try flat.search(query, k: 10)
/// ```
///
/// It is the reference that ``HNSWIndex`` recall is measured against, and the right index for
/// a few thousand vectors, where a scan costs less than a graph walk. Removal moves the last row
/// into the freed one, so the rows stay contiguous.
public struct FlatIndex: Sendable {
    /// The length of every vector.
    public let dimension: Int
    /// Normalised vectors, row-major, one row per key.
    var vectors: ContiguousArray<Float> = []
    var rowKeys: ContiguousArray<UInt64> = []
    var rowOfKey: [UInt64: Int] = [:]

    /// Creates an empty index of `dimension`-long vectors.
    ///
    /// - Throws: ``IndexError/invalidParameter(_:)`` when `dimension` is not in 1 ... 65,536.
    public init(dimension: Int) throws(IndexError) {
        guard (1...65_536).contains(dimension) else {
            throw .invalidParameter("dimension must be between 1 and 65536, got \(dimension)")
        }
        self.dimension = dimension
    }

    /// The number of vectors.
    public var count: Int { rowKeys.count }

    public func contains(key: UInt64) -> Bool { rowOfKey[key] != nil }

    /// All keys, in row order.
    public var keys: [UInt64] { Array(rowKeys) }

    /// The normalised vector stored for `key`, or `nil`.
    public func vector(forKey key: UInt64) -> [Float]? {
        guard let row = rowOfKey[key] else { return nil }
        return Array(vectors[row * dimension..<(row + 1) * dimension])
    }

    public mutating func reserveCapacity(_ n: Int) {
        vectors.reserveCapacity(n * dimension)
        rowKeys.reserveCapacity(n)
        rowOfKey.reserveCapacity(n)
    }

    /// Inserts `vector` under `key`, replacing the key's earlier vector.
    ///
    /// - Throws: ``IndexError`` for a bad vector; the index is then unchanged.
    /// - Complexity: O(dimension) amortised.
    public mutating func insert(key: UInt64, vector: [Float]) throws(IndexError) {
        let normalized = try VectorMath.normalized(vector, dimension: dimension)
        if let row = rowOfKey[key] {
            vectors.replaceSubrange(row * dimension..<(row + 1) * dimension, with: normalized)
        } else {
            rowOfKey[key] = rowKeys.count
            rowKeys.append(key)
            vectors.append(contentsOf: normalized)
        }
    }

    /// Removes `key`; the last row moves into its place.
    ///
    /// - Returns: whether the key was present.
    /// - Complexity: O(dimension).
    @discardableResult
    public mutating func remove(key: UInt64) -> Bool {
        guard let row = rowOfKey.removeValue(forKey: key) else { return false }
        let last = rowKeys.count - 1
        if row != last {
            let movedKey = rowKeys[last]
            rowKeys[row] = movedKey
            rowOfKey[movedKey] = row
            vectors.withUnsafeMutableBufferPointer { v in
                (v.baseAddress! + row * dimension).update(from: v.baseAddress! + last * dimension, count: dimension)
            }
        }
        rowKeys.removeLast()
        vectors.removeLast(dimension)
        return true
    }

    /// The `k` vectors most similar to `query`, most similar first (exact).
    ///
    /// - Parameters:
    ///   - filter: when given, only keys for which it returns `true` are returned.
    /// - Throws: ``IndexError`` for a bad query or `k` below 1.
    /// - Complexity: O(n · dimension).
    public func search(_ query: [Float], k: Int, filter: ((UInt64) -> Bool)? = nil) throws(IndexError) -> [Neighbor] {
        guard k >= 1 else { throw .invalidParameter("k must be at least 1, got \(k)") }
        let q = try VectorMath.normalized(query, dimension: dimension)
        let n = count
        guard n > 0 else { return [] }
        var scores = [Float](repeating: 0, count: n)
        vectors.withUnsafeBufferPointer { v in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(dimension), 1,
                        v.baseAddress, Int32(dimension), q, 1, 0, &scores, 1)
        }
        var top = TopK(k: k)
        scores.withUnsafeBufferPointer { s in
            rowKeys.withUnsafeBufferPointer { keys in
                for row in 0..<n where filter == nil || filter!(keys[row]) {
                    top.offer(similarity: s[row], row: UInt32(row))
                }
            }
        }
        return top.sorted().map { Neighbor(key: rowKeys[Int($0.slot)], similarity: 1 - $0.distance) }
    }

    /// Exact top-`k` for many queries at once: one `cblas_sgemm` per block of rows, so the
    /// vectors are read from memory once per block rather than once per query.
    ///
    /// - Parameters:
    ///   - queries: `queryCount × dimension` floats, row-major; they need not be normalised.
    /// - Returns: for each query, up to `k` neighbours, most similar first.
    /// - Throws: ``IndexError`` for a bad query or `k` below 1.
    /// - Complexity: O(queryCount · n · dimension).
    public func search(batch queries: [Float], k: Int) throws(IndexError) -> [[Neighbor]] {
        guard k >= 1 else { throw .invalidParameter("k must be at least 1, got \(k)") }
        guard queries.count % dimension == 0 else {
            throw .dimensionMismatch(expected: dimension, got: queries.count % dimension)
        }
        let queryCount = queries.count / dimension
        var normalized = [Float](repeating: 0, count: queries.count)
        try queries.withUnsafeBufferPointer { (source) throws(IndexError) in
            try normalized.withUnsafeMutableBufferPointer { (destination) throws(IndexError) in
                for i in 0..<queryCount {
                    try VectorMath.normalize(
                        UnsafeBufferPointer(rebasing: source[i * dimension..<(i + 1) * dimension]),
                        dimension: dimension, into: destination.baseAddress! + i * dimension)
                }
            }
        }
        let n = count
        var tops = [TopK](repeating: TopK(k: k), count: queryCount)
        guard n > 0, queryCount > 0 else { return Array(repeating: [], count: queryCount) }
        // Blocks of 256 queries × 4096 rows: the 4 MB score block stays in cache while its rows
        // are ranked, and each block of vectors is read from memory once per 256 queries.
        let queryBlock = min(queryCount, 256)
        let rowBlock = min(n, 4096)
        var block = [Float](repeating: 0, count: queryBlock * rowBlock)
        vectors.withUnsafeBufferPointer { v in
            normalized.withUnsafeBufferPointer { q in
                block.withUnsafeMutableBufferPointer { c in
                    tops.withUnsafeMutableBufferPointer { tops in
                        var firstRow = 0
                        while firstRow < n {
                            let rows = min(rowBlock, n - firstRow)
                            var firstQuery = 0
                            while firstQuery < queryCount {
                                let queries = min(queryBlock, queryCount - firstQuery)
                                // C (queries × rows) = Q[firstQuery...] · V[firstRow...]ᵀ
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                                            Int32(queries), Int32(rows), Int32(dimension), 1,
                                            q.baseAddress! + firstQuery * dimension, Int32(dimension),
                                            v.baseAddress! + firstRow * dimension, Int32(dimension),
                                            0, c.baseAddress, Int32(rows))
                                for i in 0..<queries {
                                    tops[firstQuery + i].offer(scores: c.baseAddress! + i * rows, count: rows,
                                                               firstRow: firstRow)
                                }
                                firstQuery += queries
                            }
                            firstRow += rows
                        }
                    }
                }
            }
        }
        return tops.map { top in
            top.sorted().map { Neighbor(key: rowKeys[Int($0.slot)], similarity: 1 - $0.distance) }
        }
    }
}
