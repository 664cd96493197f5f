public import Foundation
public import VectorIndex

/// A cached answer found for a request.
public struct CacheHit: Sendable {
    public enum Kind: String, Sendable {
        /// The normalised request matched exactly.
        case exact
        /// A similar prompt in the same namespace was judged to serve it (by the verifier, or by the
        /// cosine threshold and the guard).
        case semantic
    }

    public var kind: Kind
    public var key: UInt64
    /// 1 for an exact hit.
    public var similarity: Float
    public var response: Data
    public var namespace: Namespace
    public var promptTokens: Int
    public var completionTokens: Int
    /// Seconds since the entry was stored, at the lookup (HTTP's `Age`).
    public var age: Double
    /// The verifier's probability that the answer serves the request, for a semantic hit decided
    /// by the verifier.
    public var probability: Double? = nil
    /// Chosen for verification (`cache.target_error_rate`): not to be served, but forwarded, its
    /// fresh answer compared with the cached one, and the verdict reported with
    /// ``SemanticCache/judge(entry:similarity:correct:namespace:)``.
    public var verify = false
}
