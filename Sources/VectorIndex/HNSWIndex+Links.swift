extension HNSWIndex {
    /// Chooses at most `m` neighbours among `candidates` (sorted nearest first by distance to the
    /// base node) with the paper's heuristic (Algorithm 4; hnswlib `getNeighborsByHeuristic2`):
    /// a candidate is kept only if it is nearer to the base than to every neighbour already kept,
    /// which keeps links pointing in different directions and the graph navigable across clusters.
    ///
    /// Works in place, like usearch's `refine_`: the kept candidates move to the front, in order.
    /// When there are at most `m` candidates all are kept, as in hnswlib.
    ///
    /// - Returns: the number kept.
    /// - Complexity: O(`count` · `m`) inner products.
    func _selectNeighbors(_ candidates: UnsafeMutablePointer<Candidate>, count: Int, m: Int, graph: GraphView) -> Int {
        if count <= m { return count }
        var kept = 0
        for i in 0..<count {
            if kept == m { break }
            let candidate = candidates[i]
            var diverse = true
            for r in 0..<kept {
                let d = 1 - graph.similarity(between: candidate.slot, and: candidates[r].slot)
                if d < candidate.distance {
                    diverse = false
                    break
                }
            }
            if diverse {
                candidates[kept] = candidate
                kept += 1
            }
        }
        return kept
    }

    /// Re-selects the links of `node` on `level` from its current links plus `extra` slots
    /// (duplicates, `node` itself and `excluded` are skipped), with the heuristic, and writes them back.
    ///
    /// - Complexity: O(c · maxLinks) inner products for c candidates.
    func _relink(
        _ node: UInt32, level: Int, adding extra: UnsafeBufferPointer<UInt32>, excluding excluded: UInt32,
        graph: GraphView, scratch: SearchScratch
    ) {
        let list = graph.links(node, level: level)
        let maxCount = maxLinks(level: level)
        scratch.beginSearch(slots: graph.slots)
        var visited = scratch.visited
        defer { scratch.visited = visited }
        _ = visited.insert(node)
        if excluded != .max { _ = visited.insert(excluded) }

        var selection = scratch.selection
        scratch.selection = []
        defer { scratch.selection = selection }
        selection.removeAll(keepingCapacity: true)

        func consider(_ slot: UInt32) {
            guard visited.insert(slot) else { return }
            let d = 1 - graph.similarity(between: node, and: slot)
            selection.append(Candidate(distance: d, slot: slot))
        }
        let n = Int(list[0])
        if n > 0 { for j in 1...n { consider(list[j]) } }
        for slot in extra { consider(slot) }
        selection.sort()
        let kept = selection.withUnsafeMutableBufferPointer { buffer in
            _selectNeighbors(buffer.baseAddress!, count: buffer.count, m: maxCount, graph: graph)
        }
        for j in 0..<kept {
            list[1 + j] = selection[j].slot
        }
        list[0] = UInt32(kept)
    }

    /// Adds the link `node → newcomer` on `level` (the reverse half of the paper's
    /// "add bidirectional connections"). A full list is re-selected with the heuristic, as in
    /// hnswlib's `mutuallyConnectNewElement`.
    func _addReverseLink(
        from node: UInt32, to newcomer: UInt32, level: Int, graph: GraphView, scratch: SearchScratch
    ) {
        let list = graph.links(node, level: level)
        let n = Int(list[0])
        if n > 0 {
            for j in 1...n where list[j] == newcomer { return }
        }
        if n < maxLinks(level: level) {
            list[1 + n] = newcomer
            list[0] = UInt32(n + 1)
            return
        }
        var one = newcomer
        withUnsafePointer(to: &one) { p in
            _relink(node, level: level, adding: UnsafeBufferPointer(start: p, count: 1), excluding: .max,
                    graph: graph, scratch: scratch)
        }
    }
}
