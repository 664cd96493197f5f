public import Foundation

/// Where cache entries live durably. The engine keeps its index and catalog in memory and asks
/// the store only for what must survive a restart, so a shared PostgreSQL store for several
/// Deja instances can be added beside ``SQLiteCacheStore`` without touching the engine.
///
/// Every method is durable when it returns: an insert that returned survives `kill -9`.
public protocol CacheStore: Sendable {
    /// A description for messages (a path or a URL without credentials).
    var location: String { get }

    /// A named value kept with the entries (such as the embedder's identity).
    func metadata(_ name: String) async throws(CacheError) -> String?
    func setMetadata(_ name: String, _ value: String) async throws(CacheError)

    /// Stores `entry` and returns it with its new key.
    func insert(_ entry: CacheEntry) async throws(CacheError) -> CacheEntry
    func entry(key: UInt64) async throws(CacheError) -> CacheEntry?
    func response(key: UInt64) async throws(CacheError) -> Data?
    /// Deletes the entries that exist among `keys` and returns those keys.
    func delete(keys: [UInt64]) async throws(CacheError) -> [UInt64]

    /// Every entry without responses and vectors (for the in-memory catalog at start).
    func summaries() async throws(CacheError) -> [EntrySummary]
    /// The vectors of `keys` (entries without a vector are left out).
    func vectors(keys: [UInt64]) async throws(CacheError) -> [UInt64: [Float]]
    /// Replaces the vectors of entries (after re-embedding with a new embedder).
    func replaceVectors(_ vectors: [UInt64: [Float]]) async throws(CacheError)

    /// Adds hits and per-namespace counters gathered since the last call.
    func recordUsage(_ usage: UsageBatch) async throws(CacheError)
    /// The persisted per-namespace counters.
    func namespaceCounters() async throws(CacheError) -> [NamespaceCounters]
    /// Adds the counters of `namespaces` to those of `target` (made with `label` if new) and
    /// deletes theirs, in one transaction.
    func mergeCounters(_ namespaces: [Digest128], into target: Digest128, label: String) async throws(CacheError)
    /// Replaces what feedback and verification taught about an entry (no-op for a missing entry).
    func setTrust(_ trust: EntryTrust, key: UInt64) async throws(CacheError)
    /// Deletes counters and entries of a namespace; returns the deleted keys.
    func purge(namespace: Digest128) async throws(CacheError) -> [UInt64]
}

extension Digest128: Codable {
    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = Digest128(hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not 32 hex digits"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
