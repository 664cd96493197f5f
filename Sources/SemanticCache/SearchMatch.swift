public import Foundation
public import VectorIndex

/// One result of the lookup API's search.
public struct SearchMatch: Sendable {
    public var entry: EntrySummary
    public var similarity: Float
}
