/// How an ``HNSWIndex`` stores its vectors.
///
/// `int8` keeps each normalised vector as one signed byte per dimension and one float scale
/// (the codes are the vector rounded to ±127 at its largest component; the scale makes the
/// decoded vector unit length), a quarter of `float32`'s memory. Queries stay in float and are
/// multiplied with the stored bytes directly, so the only error is the rounding of the stored
/// side: docs/benchmarks.md gives recall, speed and memory of both on the same data.
public enum VectorEncoding: String, Codable, Sendable, CaseIterable {
    case float32
    case int8

    /// Bytes one vector of `dimension` components takes.
    public func bytesPerVector(dimension: Int) -> Int {
        switch self {
        case .float32: return dimension * 4
        case .int8: return dimension + 4
        }
    }

    /// The value the index file records (0 for float32, so that files written before int8
    /// existed, with zeros there, read as float32).
    var fileCode: UInt32 {
        switch self {
        case .float32: return 0
        case .int8: return 1
        }
    }

    init?(fileCode: UInt32) {
        switch fileCode {
        case 0: self = .float32
        case 1: self = .int8
        default: return nil
        }
    }
}
