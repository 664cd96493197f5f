/// What an index holds and what it costs, for `deja bench index`, `/v1/cache/stats` and logs.
public struct IndexStats: Sendable, Codable, Equatable {
    /// Live vectors.
    public var count: Int
    /// Removed vectors whose slots are not reused yet.
    public var tombstones: Int
    public var dimension: Int
    /// Bytes of vector data in use (`slots × dimension × 4`).
    public var vectorBytes: Int
    /// Bytes of link lists in use (level 0 and upper levels).
    public var linkBytes: Int
    /// Bytes allocated by the index: buffers at their capacity plus the key map.
    public var memoryBytes: Int
    /// Number of levels (1 for a flat index).
    public var levels: Int
    /// How many nodes reach each level, level 0 first.
    public var nodesPerLevel: [Int]
    /// Mean number of level-0 links of a live node (0 for a flat index).
    public var meanDegree: Double

    public init(
        count: Int, tombstones: Int, dimension: Int, vectorBytes: Int, linkBytes: Int, memoryBytes: Int,
        levels: Int, nodesPerLevel: [Int], meanDegree: Double
    ) {
        self.count = count
        self.tombstones = tombstones
        self.dimension = dimension
        self.vectorBytes = vectorBytes
        self.linkBytes = linkBytes
        self.memoryBytes = memoryBytes
        self.levels = levels
        self.nodesPerLevel = nodesPerLevel
        self.meanDegree = meanDegree
    }

    /// Bytes a dictionary from `UInt64` to a 4- or 8-byte value of `count` entries allocates:
    /// a power-of-two bucket count at most 3/4 full, a key and a value per bucket, one bit of
    /// occupancy. An estimate; the standard library does not report it.
    static func dictionaryBytes(count: Int, valueBytes: Int) -> Int {
        guard count > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 / 4 < count { buckets *= 2 }
        return buckets * (8 + valueBytes) + buckets / 8
    }
}

extension HNSWIndex {
    /// Counts, memory and graph shape.
    ///
    /// - Complexity: O(n).
    public var stats: IndexStats {
        let graph = storage.view
        var perLevel = [Int](repeating: 0, count: maxLevel + 1)
        var degreeSum = 0
        for s in 0..<graph.slots {
            let slot = UInt32(s)
            let level = graph.level(slot)
            for l in 0...min(level, maxLevel) { perLevel[l] += 1 }
            if !graph.isDeleted(slot) { degreeSum += Int(graph.links(slot, level: 0)[0]) }
        }
        let slots = graph.slots
        return IndexStats(
            count: count,
            tombstones: freeSlots.count,
            dimension: dimension,
            vectorBytes: slots * storage.encoding.bytesPerVector(dimension: dimension),
            linkBytes: slots * storage.stride0 * 4 + storage.upperCount * storage.strideUpper * 4,
            memoryBytes: storage.allocatedBytes
                + IndexStats.dictionaryBytes(count: slotOfKey.count, valueBytes: 4)
                + freeSlots.capacity * 4,
            levels: maxLevel + 1,
            nodesPerLevel: slots == 0 ? [] : perLevel,
            meanDegree: count == 0 ? 0 : Double(degreeSum) / Double(count))
    }
}
