public import Foundation

/// Hits and counters to add to the store.
public struct UsageBatch: Sendable, Equatable {
    public var hits: [UInt64: (count: Int, last: Date)] = [:]
    public var counters: [Digest128: NamespaceCounters] = [:]

    public init() {}

    public var isEmpty: Bool { hits.isEmpty && counters.isEmpty }

    public static func == (a: UsageBatch, b: UsageBatch) -> Bool {
        a.counters == b.counters && a.hits.count == b.hits.count
            && a.hits.allSatisfy { k, v in b.hits[k].map { $0.count == v.count && $0.last == v.last } ?? false }
    }
}
