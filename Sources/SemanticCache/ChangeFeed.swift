/// A store that several Deja instances share, whose changes each instance follows to keep its
/// own index and catalog in step: every insert and delete takes a number from one increasing
/// sequence, committed with it.
public protocol ChangeFeed: CacheStore {
    /// The changes after `sequence`, oldest first, at most `limit`.
    func changes(after sequence: Int64, limit: Int) async throws(CacheError) -> [StoreChange]
    /// The last number handed out (0 for none).
    func lastSequence() async throws(CacheError) -> Int64
    /// The summaries of `keys` that still exist.
    func summaries(keys: [UInt64]) async throws(CacheError) -> [EntrySummary]
    /// Waits until another change may have been committed (a notification), or `timeout`
    /// seconds; returns early rather than late, and may return without a change.
    func waitForChanges(timeout: Double) async
    /// Whether this instance does the upkeep that deletes (expiry and eviction) for all: it
    /// claims, or renews, a lease of `seconds` that no other instance holds. When the holder
    /// stops renewing (it stopped or lost the store), another takes over after the lease ends.
    func claimUpkeep(for seconds: Double, now: Double) async throws(CacheError) -> Bool
}

/// One committed change of a shared store.
public struct StoreChange: Sendable, Equatable {
    public enum Kind: Int16, Sendable {
        case insert = 1
        case delete = 2
    }

    public var sequence: Int64
    public var kind: Kind
    public var key: UInt64

    public init(sequence: Int64, kind: Kind, key: UInt64) {
        self.sequence = sequence
        self.kind = kind
        self.key = key
    }
}
