public import VectorIndex

/// A threshold for namespaces whose label matches a glob.
public struct ThresholdOverride: Codable, Sendable, Equatable {
    public var match: String
    public var threshold: Float

    public init(match: String, threshold: Float) {
        self.match = match
        self.threshold = threshold
    }
}
