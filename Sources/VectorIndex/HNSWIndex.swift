import Foundation

/// An approximate nearest-neighbour index by cosine similarity: a Hierarchical Navigable Small
/// World graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
/// using Hierarchical Navigable Small World graphs", arXiv:1603.09320).
///
/// ```swift
/// var index = try HNSWIndex(dimension: 384)
/// try index.insert(key: 42, vector: embedding)
/// let best = try index.search(query, k: 10)               // [Neighbor], best first
/// let inTenant = try index.search(query, k: 10) { key in allowed.contains(key) }
/// ```
///
/// Vectors are L2-normalised on insert and on query, so similarity is an inner product.
/// Keys are the caller's `UInt64`s, mapped to internal slots. Removing a key leaves a tombstone
/// that still routes searches but is never returned; the next insert reuses its slot.
///
/// `HNSWIndex` is a value type with no locks: share one between threads through ``SharedIndex``.
///
/// ## Topics
/// - ``insert(key:vector:tag:)``, ``insert(contentsOf:keys:tags:threads:progress:)``
/// - ``search(_:k:ef:tag:filter:)``, ``score(_:keys:k:)``
/// - ``remove(key:)``, ``compacted(threads:)``
/// - ``stats``, ``save(to:)``, ``load(from:)``
public struct HNSWIndex: Sendable {
    /// The length of every vector.
    public let dimension: Int
    /// The graph's parameters.
    public let configuration: HNSWConfiguration

    var storage: HNSWStorage
    var slotOfKey: [UInt64: UInt32] = [:]
    /// Deleted slots, reused by the next inserts (last first).
    var freeSlots: [UInt32] = []
    /// The entry point (a node on the top level), or `nil` while the graph is empty.
    var entryPoint: UInt32?
    var maxLevel: Int = 0
    /// Bumped by every change, so that a prepared insert knows whether its plan still holds.
    var generation: UInt64 = 0
    let scratchPool: ScratchPool

    /// 1 / ln(M): the level of a node is floor(-ln(U) * levelMultiplier) for uniform U.
    var levelMultiplier: Double { 1 / log(Double(configuration.m)) }

    /// Creates an empty index.
    ///
    /// - Parameters:
    ///   - dimension: the length of every vector (1 ... 65,536).
    ///   - configuration: the graph's parameters.
    ///   - capacity: slots to allocate up front; the index grows past it as needed.
    /// - Throws: ``IndexError/invalidParameter(_:)`` for a bad dimension or configuration.
    public init(dimension: Int, configuration: HNSWConfiguration = .init(), capacity: Int = 1024) throws(IndexError) {
        guard (1...65_536).contains(dimension) else {
            throw .invalidParameter("dimension must be between 1 and 65536, got \(dimension)")
        }
        try configuration.validate()
        self.dimension = dimension
        self.configuration = configuration
        self.storage = HNSWStorage(
            dimension: dimension, m: configuration.m, capacity: capacity, encoding: configuration.vectors)
        self.scratchPool = ScratchPool(dimension: dimension, maxNeighbors: 2 * configuration.m)
    }

    /// The number of live (not removed) vectors.
    public var count: Int { slotOfKey.count }
    /// Removed entries whose slots wait for reuse: ``stats`` counts them too, but walks every
    /// node to do so; this is free, for upkeep that runs every second.
    public var tombstoneCount: Int { freeSlots.count }

    /// Whether the index holds a live vector for `key`.
    public func contains(key: UInt64) -> Bool { slotOfKey[key] != nil }

    /// All live keys, in no particular order.
    public var keys: Dictionary<UInt64, UInt32>.Keys { slotOfKey.keys }

    /// The tag `key` was inserted with, or `nil` when the key is absent.
    public func tag(forKey key: UInt64) -> UInt32? {
        slotOfKey[key].map { storage.tags[Int($0)] }
    }

    /// The normalised vector stored for `key` (decoded, when stored as int8), or `nil` when
    /// the key is absent.
    public func vector(forKey key: UInt64) -> [Float]? {
        guard let slot = slotOfKey[key] else { return nil }
        return [Float](unsafeUninitializedCapacity: dimension) { buffer, initialized in
            storage.view.decode(slot, into: buffer.baseAddress!)
            initialized = dimension
        }
    }

    /// Allocates room for `slots` vectors, so that a bulk load does not grow the buffers.
    public mutating func reserveCapacity(_ slots: Int) {
        makeUnique()
        storage.reserve(slots: slots)
    }

    /// A copy that shares no buffers with this index. Saving a snapshot from it while this one
    /// keeps taking inserts costs no copy-on-write later, inside the insert's write lock, where
    /// it would hold up every search: the copy is made here, where only writers wait.
    public func detachedCopy() -> HNSWIndex {
        var copy = self
        copy.storage = storage.copy()
        var slots = [UInt64: UInt32](minimumCapacity: slotOfKey.count)
        for (key, slot) in slotOfKey { slots[key] = slot }
        copy.slotOfKey = slots
        copy.freeSlots = freeSlots.map { $0 }
        return copy
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        }
    }

    /// The level of a new node for `key`: floor(-ln(U) * 1/ln(M)), with U drawn from a SplitMix64
    /// seeded by the configuration's seed and the key, so that a rebuild gives the same graph.
    func randomLevel(for key: UInt64) -> Int {
        var generator = SplitMix64(seed: configuration.seed ^ (key &* 0x9E37_79B9_7F4A_7C15))
        let u = Double(generator.next() >> 11) * 0x1.0p-53
        let level = Int(-log(max(u, Double.leastNonzeroMagnitude)) * levelMultiplier)
        return min(level, 32)
    }

    /// The largest link count allowed on `level`: 2M on level 0, M above.
    @inline(__always)
    func maxLinks(level: Int) -> Int {
        level == 0 ? storage.maxM0 : storage.maxM
    }
}
