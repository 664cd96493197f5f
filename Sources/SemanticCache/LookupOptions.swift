public import Foundation
public import VectorIndex

/// Per-request controls of a lookup.
public struct LookupOptions: Sendable {
    /// A threshold for this request; it can only raise the configured one.
    public var threshold: Float?
    /// Skip the similarity stage (exact matches only).
    public var semantic: Bool
    /// Count the lookup in the statistics.
    public var record: Bool
    /// Serve only an entry stored at most this many seconds ago (a client's
    /// `cache-control: max-age`); an older one is passed over as if it had expired.
    public var maxAge: Double?

    public init(threshold: Float? = nil, semantic: Bool = true, record: Bool = true, maxAge: Double? = nil) {
        self.threshold = threshold
        self.semantic = semantic
        self.record = record
        self.maxAge = maxAge
    }
}
