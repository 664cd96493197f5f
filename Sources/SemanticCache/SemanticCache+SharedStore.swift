import DejaSupport
import Foundation
import Embedding
import VectorIndex

extension SemanticCache {
    /// Applies what other instances committed to a shared store (``ChangeFeed``) since the last
    /// change this instance applied: their entries join this instance's index and catalog, the
    /// ones they deleted (deleted, purged, expired, evicted) leave. Catches up in batches until
    /// nothing is left; a change already applied (this instance's own) is skipped. Returns how
    /// many changes were read.
    @discardableResult
    public func followChanges(batch: Int = 1_000) async throws(CacheError) -> Int {
        guard let feed = store as? any ChangeFeed else { return 0 }
        var read = 0
        while true {
            let after = followed.withLock { $0 }
            let changes = try await feed.changes(after: after, limit: batch)
            guard let last = changes.last else { return read }
            try await apply(changes, from: feed)
            followed.withLock { $0 = max($0, last.sequence) }
            read += changes.count
            if changes.count < batch { return read }
        }
    }

    /// The last change of the shared store applied here.
    public var followedSequence: Int64 { followed.withLock { $0 } }

    private func apply(_ changes: [StoreChange], from feed: any ChangeFeed) async throws(CacheError) {
        var latest: [UInt64: StoreChange.Kind] = [:]
        for change in changes { latest[change.key] = change.kind }
        let deleted = latest.filter { $0.value == .delete }.map(\.key)
        let unknown = latest.filter { $0.value == .insert && catalog.info($0.key) == nil }.map(\.key)
        // Read before taking the write lock: an entry deleted in the meantime is simply absent.
        let summaries = try await feed.summaries(keys: unknown)
        let vectors = try await feed.vectors(keys: summaries.filter(\.hasVector).map(\.key))
        try await writes.run { () throws(CacheError) in
            forget(deleted)
            let new = summaries.filter { catalog.info($0.key) == nil }
            let items = new.compactMap { s in
                vectors[s.key].flatMap { $0.count == embedder.dimension ? (key: s.key, vector: $0, tag: s.namespace.tag) : nil }
            }
            if case .failure(let error) = await indexInsert(items) { throw .index(error) }
            for s in new {
                catalog.add(
                    s.key, Self.info(s, features: PromptFeatures(s.prompt), lastUsed: s.lastHitAt ?? s.createdAt),
                    label: s.namespace.label)
            }
        }
    }
}
