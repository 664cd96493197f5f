import DejaSupport
import Embedding
import Foundation
import VectorIndex

/// Base and query vectors for an index benchmark, with optional exact ground truth.
struct VectorDataset {
    var name: String
    var dimension: Int
    /// Row-major, `baseCount × dimension`.
    var base: [Float]
    /// Row-major, `queryCount × dimension`.
    var queries: [Float]
    /// Exact top ids per query (best first), when the files carry them.
    var truth: [[UInt64]]?

    var baseCount: Int { base.count / dimension }
    var queryCount: Int { queries.count / dimension }

    func baseRow(_ i: Int) -> [Float] { Array(base[i * dimension..<(i + 1) * dimension]) }
    func queryRow(_ i: Int) -> [Float] { Array(queries[i * dimension..<(i + 1) * dimension]) }

    static func generated(count: Int, dimension: Int, queries: Int, clusters: Int, seed: UInt64) -> VectorDataset {
        let data = ClusteredDataset(count: count, dimension: dimension, queries: queries, clusters: clusters, seed: seed)
        return VectorDataset(
            name: "clustered-\(count)x\(dimension)-c\(clusters)-s\(seed)", dimension: dimension,
            base: data.baseVectors, queries: data.queryVectors, truth: nil)
    }

    /// Reads a data set in the `anchors-v1` format of `../shared/bench/anchors.py`: a `meta.json`
    /// beside raw little-endian float32 (`base.f32`, `query.f32`) and int32 (`gt_ids.i32`) files.
    static func anchors(metaPath: String) throws -> VectorDataset {
        let metaURL = URL(fileURLWithPath: metaPath)
        let meta: AnchorsMeta
        let metaData = try TextFile.data(metaPath)
        do {
            meta = try JSONDecoder().decode(AnchorsMeta.self, from: metaData)
        } catch {
            throw BenchError("\(metaPath): not an anchors.py data set header (meta.json): \((error as? DecodingError)?.readableDescription ?? "\(error)")")
        }
        guard meta.format == "anchors-v1", meta.dtype == "float32", meta.byte_order == "little" else {
            throw BenchError("\(metaPath): expected format anchors-v1 with little-endian float32, got \(meta.format)")
        }
        let folder = metaURL.deletingLastPathComponent()
        func floats(_ file: String, _ count: Int) throws -> [Float] {
            try readRaw(folder.appendingPathComponent(file), count: count, as: Float.self)
        }
        let base = try floats(meta.files.base, meta.n_base * meta.dim)
        let queries = try floats(meta.files.query, meta.n_query * meta.dim)
        var truth: [[UInt64]]?
        if let gt = meta.files.gt_ids {
            let ids = try readRaw(folder.appendingPathComponent(gt), count: meta.n_query * meta.gt_k, as: Int32.self)
            truth = (0..<meta.n_query).map { q in ids[q * meta.gt_k..<(q + 1) * meta.gt_k].map { UInt64($0) } }
        }
        return VectorDataset(name: meta.name, dimension: meta.dim, base: base, queries: queries, truth: truth)
    }

    private static func readRaw<T>(_ url: URL, count: Int, as: T.Type) throws -> [T] {
        let data = try TextFile.data(url.path)
        guard data.count == count * MemoryLayout<T>.size else {
            throw BenchError("\(url.path) has \(data.count) bytes, expected \(count * MemoryLayout<T>.size)")
        }
        return data.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
    }
}
