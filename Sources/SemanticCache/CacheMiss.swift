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
    /// The similarity of the best live candidate of the namespace: the verifier's choice when it
    /// weighed any, else the most similar.
    public var bestSimilarity: Float?
    /// The entry that was.
    public var bestKey: UInt64?
    /// The verifier's probability for that candidate, if it weighed any.
    public var bestProbability: Double? = nil
    /// Why the best candidate above the threshold was refused, if one was.
    public var rejection: GuardRejection?
    /// The query's vector, when it was computed.
    public var vector: [Float]? { request.vector }
}
