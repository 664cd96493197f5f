import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file, memory-mapped read-only: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw data.
///
/// ```swift
/// let file = try SafeTensorsFile(path: "models/all-MiniLM-L6-v2/model.safetensors")
/// let embeddings = try file.floats("embeddings.word_embeddings.weight", shape: [30522, 384])
/// ```
///
/// Mapping instead of reading: the 87 MB stay page cache that the kernel shares between
/// processes and can reclaim, rather than a private copy. Every range in the header is checked
/// against the file size when it is opened, so a truncated file is an error then and never a
/// crash later.
///
/// `@unchecked Sendable`: a read-only memory mapping, unmapped in `deinit`.
final class SafeTensorsFile: @unchecked Sendable {
    /// One tensor's header entry.
    struct Tensor: Equatable {
        var dtype: String
        var shape: [Int]
        /// Byte range inside the data section.
        var range: Range<Int>
    }

    let path: String
    let tensors: [String: Tensor]
    private let base: UnsafeRawPointer
    private let mappedBytes: Int
    private let dataStart: Int

    /// Bytes per element of the dtypes a header may name.
    private static let elementBytes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    init(path: String) throws(EmbeddingError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw .modelFile(path: path, reason: "cannot open it (\(String(cString: strerror(errno)))); run `make model`")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .modelFile(path: path, reason: "cannot read its size") }
        let size = Int(info.st_size)
        guard size >= 8 else { throw .modelFile(path: path, reason: "is \(size) bytes, too short for a safetensors file") }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw .modelFile(path: path, reason: "cannot map it into memory (\(String(cString: strerror(errno))))")
        }
        let raw = UnsafeRawPointer(map)
        let headerLength = Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)))
        guard headerLength > 1, headerLength <= min(size - 8, 100 << 20) else {
            munmap(map, size)
            throw .modelFile(path: path, reason: "header length \(headerLength) does not fit a \(size)-byte file; the file is truncated or not safetensors")
        }
        do {
            tensors = try Self.parseHeader(Data(bytes: raw + 8, count: headerLength), dataBytes: size - 8 - headerLength, path: path)
        } catch {
            munmap(map, size)
            throw error
        }
        base = raw
        mappedBytes = size
        dataStart = 8 + headerLength
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedBytes)
    }

    /// The whole file, as mapped (for hashing it without reading it a second time).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: mappedBytes) }

    /// The float32 tensor `name`, checked to have exactly `shape`.
    ///
    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` naming the tensor when it is missing
    ///   or has another dtype or shape.
    func floats(_ name: String, shape: [Int]) throws(EmbeddingError) -> UnsafeBufferPointer<Float> {
        guard let tensor = tensors[name] else {
            throw .modelFile(path: path, reason: "tensor \(name) is missing; is this the model the configuration names?")
        }
        guard tensor.dtype == "F32" else {
            throw .modelFile(path: path, reason: "tensor \(name) is \(tensor.dtype), expected F32")
        }
        guard tensor.shape == shape else {
            throw .modelFile(path: path, reason: "tensor \(name) has shape \(tensor.shape), expected \(shape) from config.json")
        }
        let start = base + dataStart + tensor.range.lowerBound
        guard Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else {
            throw .modelFile(path: path, reason: "tensor \(name) is not 4-byte aligned")
        }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: tensor.range.count / 4)
    }

    private static func parseHeader(_ data: Data, dataBytes: Int, path: String) throws(EmbeddingError) -> [String: Tensor] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .modelFile(path: path, reason: "the header is not JSON; the file is damaged or not safetensors")
        }
        guard let entries = object as? [String: Any] else {
            throw .modelFile(path: path, reason: "the header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in entries where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                let dtype = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                offsets.count == 2
            else {
                throw .modelFile(path: path, reason: "header entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let width = elementBytes[dtype] else {
                throw .modelFile(path: path, reason: "tensor \(name) has unknown dtype \(dtype)")
            }
            let count = shape.reduce(1) { $0 &* max($1, 0) }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1],
                offsets[1] - offsets[0] == count * width
            else {
                throw .modelFile(path: path, reason: "tensor \(name) has byte range \(offsets) that does not match shape \(shape) of \(dtype)")
            }
            guard offsets[1] <= dataBytes else {
                throw .modelFile(path: path, reason: "tensor \(name) ends at byte \(offsets[1]) of a \(dataBytes)-byte data section; the file is truncated, run `make model` again")
            }
            tensors[name] = Tensor(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        return tensors
    }
}
