public import Foundation
public import VectorIndex

/// No cached answer; what the lookup saw, for shadow measurements and logs.
public struct CacheMiss: Sendable {
    /// The request as far as the lookup worked it out (its vector, when it was embedded): what
    /// storing its answer takes.
    public var request: PreparedRequest
    public var namespace: Namespace { request.namespace }
    /// The request's exact key: identical requests, and only they, share it.
    public var exactKey: Digest128 { request.exactKey }
    /// The best similarity among live candidates of the namespace, hit or not.
    public var bestSimilarity: Float?
    /// The entry that had it.
    public var bestKey: UInt64?
    /// The verifier's best probability among the candidates it weighed, if it weighed any.
    public var bestProbability: Double? = nil
    /// Why the best candidate above the threshold was refused, if one was.
    public var rejection: GuardRejection?
    /// The query's vector, when it was computed.
    public var vector: [Float]? { request.vector }
}
