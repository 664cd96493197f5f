/// Everything that can go wrong in the vector index, with a message that names the bad input
/// and says what to do about it.
///
/// Index operations use typed throws (`throws(IndexError)`), so callers can switch over the cases
/// without casting.
public enum IndexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A vector's length differs from the index's dimension.
    case dimensionMismatch(expected: Int, got: Int)
    /// A vector with length zero cannot be normalised, so it has no cosine similarity.
    case zeroVector
    /// A vector holds NaN or an infinity at `position`.
    case nonFiniteValue(position: Int)
    /// A parameter is outside its valid range; the string says which and why.
    case invalidParameter(String)
    /// The file could not be opened, read or written.
    case fileAccess(path: String, reason: String)
    /// The file is not a Deja index file at all.
    case notAnIndexFile(path: String)
    /// The file was written by a newer (or unknown) version of the format.
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    /// The file is shorter than its header says: it was cut off while being written or copied.
    case truncatedFile(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file's checksum or structure is wrong: it was damaged after it was written.
    case corruptFile(path: String, reason: String)
    /// The file holds a different kind of index than the one asked for.
    case wrongIndexKind(path: String, found: String, expected: String)

    public var description: String {
        switch self {
        case .dimensionMismatch(let expected, let got):
            return "vector has \(got) dimensions but the index holds \(expected)-dimensional vectors; "
                + "embed with the same model the index was built with"
        case .zeroVector:
            return "vector has length zero, so it has no direction to compare; drop it or embed non-empty text"
        case .nonFiniteValue(let position):
            return "vector holds NaN or infinity at position \(position); check the embedder's output"
        case .invalidParameter(let message):
            return message
        case .fileAccess(let path, let reason):
            return "cannot access index file \(path): \(reason)"
        case .notAnIndexFile(let path):
            return "\(path) is not a Deja index file (wrong magic bytes); point to a file written by Deja"
        case .unsupportedVersion(let path, let found, let supported):
            return "\(path) uses index format version \(found), but this Deja reads version \(supported); "
                + "rebuild the index or upgrade Deja"
        case .truncatedFile(let path, let expected, let actual):
            return "\(path) is truncated: expected \(expected) bytes, found \(actual); "
                + "the file was cut off, so rebuild the index from the store"
        case .corruptFile(let path, let reason):
            return "\(path) is corrupt: \(reason); rebuild the index from the store"
        case .wrongIndexKind(let path, let found, let expected):
            return "\(path) holds a \(found) index, not a \(expected) index"
        }
    }
}
