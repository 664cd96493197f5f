/// An index shared between threads: many searches run at once, and one writer at a time
/// inserts or removes.
///
/// ```swift
/// let shared = SharedIndex(try HNSWIndex(dimension: 384))
/// try shared.insert(key: 1, vector: v)            // from any thread
/// let hits = try shared.search(q, k: 5)           // concurrently with the insert
/// ```
///
/// An insert searches for its neighbours under the read lock, beside the searches, and takes the
/// write lock only to write its links, so searches wait for microseconds, not for a whole insert.
/// Writers are serialised by a second lock, so nothing changes the graph between the two halves.
///
/// `@unchecked Sendable`: the index is guarded by a ``ReadWriteLock`` (readers at once, one
/// writer), which `Mutex` cannot express.
public final class SharedIndex<Index: NearestNeighborIndex>: @unchecked Sendable {
    // `index` is read only under `lock` (read or write) and written only under its write lock.
    private var index: Index
    private let lock = ReadWriteLock()
    private let writers = ReadWriteLock()

    public init(_ index: Index) {
        self.index = index
    }

    public var dimension: Int { index.dimension }

    public var count: Int { lock.withReadLock { index.count } }

    public func contains(key: UInt64) -> Bool { lock.withReadLock { index.contains(key: key) } }

    public var stats: IndexStats { lock.withReadLock { index.stats } }

    /// See ``HNSWIndex/search(_:k:ef:tag:filter:)``. Runs concurrently with other searches.
    public func search(
        _ query: [Float], k: Int, ef: Int? = nil, filter: ((UInt64) -> Bool)? = nil
    ) throws(IndexError) -> [Neighbor] {
        try lock.withReadLock { () throws(IndexError) in
            try index.search(query, k: k, ef: ef, filter: filter)
        }
    }

    /// Inserts or replaces `key`. Searches continue while its neighbours are found.
    public func insert(key: UInt64, vector: [Float]) throws(IndexError) {
        try writers.withWriteLock { () throws(IndexError) in
            let prepared = try lock.withReadLock { () throws(IndexError) in
                try index.prepareInsert(key: key, vector: vector)
            }
            lock.withWriteLock { index.commit(prepared) }
        }
    }

    /// Inserts with a custom first half (for example ``HNSWIndex/prepareInsert(key:vector:tag:)``):
    /// `prepare` runs under the read lock beside searches, the commit under the write lock.
    public func insert(prepare: (Index) throws(IndexError) -> Index.Prepared) throws(IndexError) {
        try writers.withWriteLock { () throws(IndexError) in
            let prepared = try lock.withReadLock { () throws(IndexError) in try prepare(index) }
            lock.withWriteLock { index.commit(prepared) }
        }
    }

    /// Removes `key`; returns whether it was present.
    @discardableResult
    public func remove(key: UInt64) -> Bool {
        writers.withWriteLock {
            lock.withWriteLock { index.remove(key: key) }
        }
    }

    /// Runs `body` on the index under the read lock (for saving, stats, or several searches
    /// that must see the same state).
    public func read<R, E: Error>(_ body: (Index) throws(E) -> R) throws(E) -> R {
        try lock.withReadLock { () throws(E) in try body(index) }
    }

    /// Runs `body` with exclusive access to the index (for bulk loads and compaction).
    public func write<R, E: Error>(_ body: (inout Index) throws(E) -> R) throws(E) -> R {
        try writers.withWriteLock { () throws(E) in
            try lock.withWriteLock { () throws(E) in try body(&index) }
        }
    }
}
