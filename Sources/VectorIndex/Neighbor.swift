/// One search result: a key and its cosine similarity to the query.
public struct Neighbor: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The caller's key for the vector.
    public var key: UInt64
    /// Cosine similarity to the query, in [-1, 1]; 1 means the same direction.
    public var similarity: Float

    public init(key: UInt64, similarity: Float) {
        self.key = key
        self.similarity = similarity
    }

    public var description: String { "\(key)@\(similarity)" }
}
