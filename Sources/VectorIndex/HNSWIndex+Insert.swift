import HeapModule

/// An insert whose expensive part, the search for neighbours, is done: ``HNSWIndex/commit(_:)``
/// only writes links. ``SharedIndex`` prepares under a read lock, so that searches go on
/// meanwhile, and commits under the write lock.
public struct PreparedInsert: Sendable {
    let key: UInt64
    let tag: UInt32
    /// The normalised vector.
    let vector: [Float]
    /// The slot the node goes to: the key's own slot, a deleted one, or a new one at the end.
    let slot: UInt32
    let appends: Bool
    let level: Int
    /// The chosen neighbours on each level 0 ... `level`.
    let neighbors: [[UInt32]]
    /// The index's generation the plan was made against.
    let generation: UInt64
}

extension HNSWIndex {
    /// Inserts `vector` under `key`, replacing the key's earlier vector if it has one.
    ///
    /// ```swift
    /// try index.insert(key: 7, vector: embedding)
    /// ```
    ///
    /// - Parameters:
    ///   - tag: a partition number that ``search(_:k:ef:tag:filter:)`` can restrict results to.
    /// - Throws: ``IndexError`` for a vector of the wrong dimension, zero length, NaN or infinity;
    ///   the index is then unchanged.
    /// - Complexity: about O(efConstruction · M · log n) inner products.
    public mutating func insert(key: UInt64, vector: [Float], tag: UInt32 = 0) throws(IndexError) {
        let prepared = try prepareInsert(key: key, vector: vector, tag: tag)
        commit(prepared)
    }

    /// The first half of ``insert(key:vector:)``: validates and normalises the vector and finds its
    /// neighbours, without changing the index.
    ///
    /// - Throws: ``IndexError`` for a bad vector.
    public func prepareInsert(key: UInt64, vector: [Float]) throws(IndexError) -> PreparedInsert {
        try prepareInsert(key: key, vector: vector, tag: 0)
    }

    /// ``prepareInsert(key:vector:)`` with a tag.
    public func prepareInsert(key: UInt64, vector: [Float], tag: UInt32) throws(IndexError) -> PreparedInsert {
        let normalized = try VectorMath.normalized(vector, dimension: dimension)
        let slot: UInt32
        let appends: Bool
        let level: Int
        if let existing = slotOfKey[key] {
            (slot, appends, level) = (existing, false, storage.view.level(existing))
        } else if let free = freeSlots.last {
            (slot, appends, level) = (free, false, storage.view.level(free))
        } else {
            (slot, appends, level) = (UInt32(storage.count), true, randomLevel(for: key))
        }
        let neighbors = normalized.withUnsafeBufferPointer { q in
            _planLinks(q.baseAddress!, level: level, excluding: appends ? .max : slot)
        }
        return PreparedInsert(
            key: key, tag: tag, vector: normalized, slot: slot, appends: appends, level: level,
            neighbors: neighbors, generation: generation)
    }

    /// The second half of ``insert(key:vector:)``: writes the node and its links. When the index
    /// changed since `prepared` was made, the neighbours are searched again first.
    public mutating func commit(_ prepared: PreparedInsert) {
        var plan = prepared
        if plan.generation != generation {
            // Cannot fail: the vector was validated when the plan was made.
            plan = try! prepareInsert(key: prepared.key, vector: prepared.vector, tag: prepared.tag)
        }
        makeUnique()
        let slot: UInt32
        if plan.appends {
            slot = storage.appendSlot(level: plan.level)
        } else {
            slot = plan.slot
            if let i = freeSlots.lastIndex(of: slot) { freeSlots.remove(at: i) }
            _detach(slot)
        }
        let graph = storage.view
        plan.vector.withUnsafeBufferPointer { v in
            graph.store(v.baseAddress!, at: slot)
        }
        graph.keys[Int(slot)] = plan.key
        graph.tags[Int(slot)] = plan.tag
        graph.flags[Int(slot)] = 0
        slotOfKey[plan.key] = slot

        scratchPool.withScratch { scratch in
            for level in 0...plan.level {
                let chosen = plan.neighbors[level]
                let list = graph.links(slot, level: level)
                for (j, n) in chosen.enumerated() { list[1 + j] = n }
                list[0] = UInt32(chosen.count)
                for n in chosen {
                    _addReverseLink(from: n, to: slot, level: level, graph: graph, scratch: scratch)
                }
            }
        }
        if entryPoint == nil || plan.level > maxLevel {
            entryPoint = slot
            maxLevel = plan.level
        }
        generation &+= 1
    }

    /// Finds the neighbours of a new node at `query` on levels 0 ... `level`: a greedy descent
    /// through the levels above, then an `efConstruction` search and the selection heuristic on
    /// each level (the paper's Algorithm 1). `excluding` is a slot that must not be chosen (the
    /// node's own slot when it is reused).
    func _planLinks(_ query: UnsafePointer<Float>, level: Int, excluding: UInt32) -> [[UInt32]] {
        var result = [[UInt32]](repeating: [], count: level + 1)
        guard let entry = entryPoint else { return result }
        let graph = storage.view
        let m = configuration.m
        let ef = configuration.efConstruction
        scratchPool.withScratch { scratch in
            // Rounded once, the int8 query walks the levels above as well as searching these.
            let queryScale = scratch.roundQuery(query, for: graph)
            var start = _greedyDescent(query, from: entry, fromLevel: maxLevel, toLevel: level, graph: graph,
                                       queryCodes: scratch.queryCodes, queryScale: queryScale)
            var l = min(level, maxLevel)
            while l >= 0 {
                _searchLayer(query, from: start, ef: ef, level: l, graph: graph, scratch: scratch, queryScale: queryScale,
                             acceptor: LiveSlots(flags: graph.flags, excluded: excluding))
                var selection = scratch.selection
                scratch.selection = []
                selection.removeAll(keepingCapacity: true)
                while let c = scratch.results.popMin() { selection.append(c) }
                if let nearest = selection.first {
                    start = nearest
                    let kept = selection.withUnsafeMutableBufferPointer { buffer in
                        _selectNeighbors(buffer.baseAddress!, count: buffer.count, m: m, graph: graph)
                    }
                    result[l] = selection[0..<kept].map(\.slot)
                }
                scratch.selection = selection
                l -= 1
            }
        }
        return result
    }

    /// Takes a deleted (or replaced) node out of the graph before its slot is reused: each of its
    /// neighbours that links back to it is re-linked, with the node's own neighbours as extra
    /// candidates, so that paths through the node survive it (as hnswlib's `updatePoint` repairs
    /// the neighbourhood of a replaced element). Then the node's own lists are emptied.
    /// Links that other nodes hold to the slot and that were not repaired stay: they point at the
    /// new vector and act as long-range links.
    mutating func _detach(_ slot: UInt32) {
        let graph = storage.view
        scratchPool.withScratch { scratch in
            for level in 0...graph.level(slot) {
                let list = graph.links(slot, level: level)
                let old = Array(UnsafeBufferPointer(start: list + 1, count: Int(list[0])))
                for n in old where n != slot {
                    let theirs = graph.links(n, level: level)
                    var pointsBack = false
                    for j in stride(from: 1, through: Int(theirs[0]), by: 1) where theirs[j] == slot {
                        pointsBack = true
                        break
                    }
                    guard pointsBack else { continue }
                    let live = old.filter { $0 != n && !graph.isDeleted($0) }
                    live.withUnsafeBufferPointer { extra in
                        _relink(n, level: level, adding: extra, excluding: slot, graph: graph, scratch: scratch)
                    }
                }
                list[0] = 0
            }
        }
    }

    /// Removes `key`. Its node stays in the graph as a tombstone that routes searches but is never
    /// returned, and the next insert reuses its slot.
    ///
    /// - Returns: whether the key was present.
    /// - Complexity: O(1).
    @discardableResult
    public mutating func remove(key: UInt64) -> Bool {
        guard let slot = slotOfKey.removeValue(forKey: key) else { return false }
        makeUnique()
        storage.flags[Int(slot)] |= HNSWStorage.deletedFlag
        freeSlots.append(slot)
        generation &+= 1
        return true
    }
}
