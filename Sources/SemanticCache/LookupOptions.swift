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
    /// A semantic hit may be chosen for verification (when `cache.target_error_rate` is set): the
    /// caller can forward the request and report the verdict. The lookup API, which cannot,
    /// leaves it off.
    public var verification: Bool

    public init(
        threshold: Float? = nil, semantic: Bool = true, record: Bool = true, maxAge: Double? = nil, verification: Bool = false
    ) {
        self.verification = verification
        self.threshold = threshold
        self.semantic = semantic
        self.record = record
        self.maxAge = maxAge
    }
}
