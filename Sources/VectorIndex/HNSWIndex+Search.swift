import HeapModule

extension HNSWIndex {
    /// Searches for the `k` vectors most similar to `query`.
    ///
    /// ```swift
    /// let hits = try index.search(embedding, k: 5, ef: 128)
    /// ```
    ///
    /// - Parameters:
    ///   - query: a vector of ``dimension`` floats; it need not be normalised.
    ///   - k: how many results to return at most (1 or more).
    ///   - ef: the candidate list size for this query (default ``HNSWConfiguration/efSearch``);
    ///     raised to `k` when smaller. Larger finds more true neighbours, slower.
    ///   - tag: when given, only vectors inserted with this tag are returned (a partition, such as
    ///     a cache namespace). Other vectors still route the search.
    ///   - filter: when given, only keys for which it returns `true` are returned. The search
    ///     goes on until it has `ef` such keys or runs out of graph, so a filter (or a tag) that
    ///     rejects almost everything costs up to a full scan: score a small partition with
    ///     ``score(_:keys:k:)`` instead.
    /// - Returns: up to `k` neighbours, most similar first. Removed keys never appear.
    /// - Throws: ``IndexError`` for a query of the wrong dimension, zero length, NaN or infinity,
    ///   or for `k` or `ef` below 1.
    /// - Complexity: about O(ef · M · log n) inner products.
    public func search(
        _ query: [Float], k: Int, ef: Int? = nil, tag: UInt32? = nil, filter: ((UInt64) -> Bool)? = nil
    ) throws(IndexError) -> [Neighbor] {
        try query.withUnsafeBufferPointer { (q) throws(IndexError) in
            try search(q, k: k, ef: ef, tag: tag, filter: filter)
        }
    }

    /// ``search(_:k:ef:tag:filter:)`` (the form ``NearestNeighborIndex`` asks for).
    public func search(_ query: [Float], k: Int, ef: Int?, filter: ((UInt64) -> Bool)?) throws(IndexError) -> [Neighbor] {
        try search(query, k: k, ef: ef, tag: nil, filter: filter)
    }

    /// ``search(_:k:ef:tag:filter:)`` over a buffer.
    public func search(
        _ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, tag: UInt32? = nil,
        filter: ((UInt64) -> Bool)? = nil
    ) throws(IndexError) -> [Neighbor] {
        guard k >= 1 else { throw .invalidParameter("k must be at least 1, got \(k)") }
        let capacity = min(k, count)
        var keys = [UInt64](repeating: 0, count: capacity)
        var similarities = [Float](repeating: 0, count: capacity)
        let found = try keys.withUnsafeMutableBufferPointer { (kb) throws(IndexError) in
            try similarities.withUnsafeMutableBufferPointer { (sb) throws(IndexError) in
                try search(query, k: capacity, ef: ef, tag: tag, filter: filter,
                           keys: kb.baseAddress!, similarities: sb.baseAddress!)
            }
        }
        return (0..<found).map { Neighbor(key: keys[$0], similarity: similarities[$0]) }
    }

    /// The allocation-free form of ``search(_:k:ef:tag:filter:)``: writes up to `k` results, most
    /// similar first, into the caller's buffers and returns how many it wrote.
    ///
    /// - Parameters:
    ///   - keys: room for `k` keys.
    ///   - similarities: room for `k` similarities.
    public func search(
        _ query: UnsafeBufferPointer<Float>,
        k: Int,
        ef: Int? = nil,
        tag: UInt32? = nil,
        filter: ((UInt64) -> Bool)? = nil,
        keys: UnsafeMutablePointer<UInt64>,
        similarities: UnsafeMutablePointer<Float>
    ) throws(IndexError) -> Int {
        guard k >= 0 else { throw .invalidParameter("k must be at least 1, got \(k)") }
        let ef = max(ef ?? configuration.efSearch, k)
        guard ef >= 1 else { throw .invalidParameter("ef must be at least 1, got \(ef)") }
        return try scratchPool.withScratch { (scratch) throws(IndexError) -> Int in
            try VectorMath.normalize(query, dimension: dimension, into: scratch.query)
            guard k > 0, let entry = entryPoint, !slotOfKey.isEmpty else { return 0 }
            let graph = storage.view
            // With int8 vectors on a VNNI CPU the upper levels are walked with the query rounded
            // to int8 too, as level 0 is searched: byte multiply-adds instead of widening every
            // byte to a float.
            let queryScale = scratch.roundQuery(scratch.query, for: graph)
            let start = _greedyDescent(scratch.query, from: entry, fromLevel: maxLevel, toLevel: 0, graph: graph,
                                       queryCodes: scratch.queryCodes, queryScale: queryScale)
            if let filter {
                _searchLayer(scratch.query, from: start, ef: ef, level: 0, graph: graph, scratch: scratch,
                             queryScale: queryScale, acceptor: TaggedFilteredSlots(
                                flags: graph.flags, tags: graph.tags, keys: graph.keys, tag: tag, filter: filter))
            } else if let tag {
                _searchLayer(scratch.query, from: start, ef: ef, level: 0, graph: graph, scratch: scratch,
                             queryScale: queryScale, acceptor: TaggedSlots(flags: graph.flags, tags: graph.tags, tag: tag))
            } else {
                _searchLayer(scratch.query, from: start, ef: ef, level: 0, graph: graph, scratch: scratch,
                             queryScale: queryScale, acceptor: LiveSlots(flags: graph.flags, excluded: .max))
            }
            // `results` holds the best `ef` with the worst on top: drop the surplus, then fill
            // the output from its end.
            while scratch.results.count > k { _ = scratch.results.popMax() }
            var n = scratch.results.count
            let found = n
            let rescore = graph.quantizesQueries
            while let c = scratch.results.popMax() {
                n -= 1
                keys[n] = graph.keys[Int(c.slot)]
                // Scored with the int8 query, the order is right but the similarity an estimate:
                // the returned one is the float query's, as ``score(_:keys:k:)`` gives it.
                similarities[n] = rescore ? graph.similarity(scratch.query, c.slot) : 1 - c.distance
            }
            if rescore { Self.sortDescending(keys: keys, similarities: similarities, count: found) }
            return found
        }
    }

    /// Orders `count` results most similar first, in place (insertion sort: `count` is `k`, a
    /// handful, already almost in order).
    static func sortDescending(keys: UnsafeMutablePointer<UInt64>, similarities: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 1 else { return }
        for i in 1..<count {
            let (key, similarity) = (keys[i], similarities[i])
            var j = i
            while j > 0 && similarities[j - 1] < similarity {
                keys[j] = keys[j - 1]
                similarities[j] = similarities[j - 1]
                j -= 1
            }
            keys[j] = key
            similarities[j] = similarity
        }
    }

    /// The `k` most similar of the given keys, scored exactly (one inner product per key): the
    /// right search for a small partition, where a filtered graph search would visit most of
    /// the graph to find a handful of accepted nodes. Absent or removed keys are skipped.
    ///
    /// - Complexity: O(keys · dimension).
    public func score(_ query: [Float], keys: some Sequence<UInt64>, k: Int) throws(IndexError) -> [Neighbor] {
        guard k >= 1 else { throw .invalidParameter("k must be at least 1, got \(k)") }
        let normalized = try VectorMath.normalized(query, dimension: dimension)
        let graph = storage.view
        var top = TopK(k: k)
        normalized.withUnsafeBufferPointer { q in
            for key in keys {
                guard let slot = slotOfKey[key] else { continue }
                top.offer(similarity: graph.similarity(q.baseAddress!, slot), row: slot)
            }
        }
        return top.sorted().map { Neighbor(key: graph.keys[Int($0.slot)], similarity: 1 - $0.distance) }
    }

    /// Walks greedily from `entry` on `fromLevel` down to `toLevel + 1`, each time moving to the
    /// neighbour nearest to `query` until none is nearer (hnswlib's `searchKnn` upper phase).
    /// Returns the node reached and its distance. With `queryCodes` and a `queryScale` other than
    /// 0 (the query rounded to int8, ``SearchScratch/roundQuery(_:for:)``), distances are the int8
    /// estimates the layer searches below use.
    @inline(__always)
    func _greedyDescent(
        _ query: UnsafePointer<Float>, from entry: UInt32, fromLevel: Int, toLevel: Int, graph: GraphView,
        queryCodes: UnsafePointer<Int8>? = nil, queryScale: Float = 0
    ) -> Candidate {
        @inline(__always) func similarity(_ slot: UInt32) -> Float {
            if queryScale != 0, let queryCodes { return graph.similarity(queryCodes: queryCodes, queryScale: queryScale, slot) }
            return graph.similarity(query, slot)
        }
        var current = entry
        var best = 1 - similarity(entry)
        var level = fromLevel
        while level > toLevel {
            var changed = true
            while changed {
                changed = false
                let list = graph.links(current, level: level)
                let n = Int(list[0])
                var j = 1
                while j <= n {
                    let candidate = list[j]
                    if j < n { VectorMath.prefetch(graph.vectorAddress(list[j + 1])) }
                    let d = 1 - similarity(candidate)
                    if d < best {
                        best = d
                        current = candidate
                        changed = true
                    }
                    j += 1
                }
            }
            level -= 1
        }
        return Candidate(distance: best, slot: current)
    }

    /// Best-first search of one level from `start`, keeping the `ef` nearest accepted nodes in
    /// `scratch.results` (the paper's SEARCH-LAYER; hnswlib's `searchBaseLayerST`).
    ///
    /// It stops when the nearest unexpanded candidate is farther than the worst kept result and
    /// `ef` results are kept. Rejected nodes are still expanded, so filters and tombstones do
    /// not cut the graph. `queryScale` is that of the query rounded into `scratch.queryCodes`
    /// (``SearchScratch/roundQuery(_:for:)``), whose byte multiply-adds then score the
    /// neighbours; 0 scores them in float.
    @inline(__always)
    func _searchLayer<A: SlotAcceptor>(
        _ query: UnsafePointer<Float>,
        from start: Candidate,
        ef: Int,
        level: Int,
        graph: GraphView,
        scratch: SearchScratch,
        queryScale: Float,
        acceptor: A
    ) {
        scratch.beginSearch(slots: graph.slots)
        // Work on local heaps (moved out, then back) so that the hot loop pays no exclusivity
        // checks on the scratch object's properties.
        var candidates = Heap<Candidate>()
        var results = Heap<Candidate>()
        swap(&candidates, &scratch.candidates)
        swap(&results, &scratch.results)
        defer {
            swap(&candidates, &scratch.candidates)
            swap(&results, &scratch.results)
        }
        var visited = scratch.visited
        defer { scratch.visited = visited }
        let ids = scratch.ids
        let dots = scratch.dots

        _ = visited.insert(start.slot)
        candidates.insert(start)
        if acceptor.accepts(start.slot) { results.insert(start) }
        var bound = results.max?.distance ?? .infinity

        while let current = candidates.popMin() {
            if current.distance > bound && results.count >= ef { break }
            let list = graph.links(current.slot, level: level)
            // Start loading the next candidate's links now: they live apart from the vectors,
            // so without this each expansion waits for one more cache miss (hnswlib does the same).
            if let next = candidates.min { VectorMath.prefetch(graph.links(next.slot, level: level)) }
            let n = Int(list[0])
            var fresh = 0
            var j = 1
            while j <= n {
                let id = list[j]
                if visited.insert(id) {
                    ids[fresh] = id
                    fresh += 1
                    // Ask for every fresh vector now, so that their cache misses overlap instead
                    // of coming one after another in the products below.
                    graph.prefetchVector(id)
                    acceptor.prefetch(id)
                }
                j += 1
            }
            if fresh == 0 { continue }
            if queryScale != 0 {
                graph.dotRows(queryCodes: scratch.queryCodes, queryScale: queryScale, rows: ids, count: fresh, into: dots)
            } else {
                graph.dotRows(query: query, rows: ids, count: fresh, into: dots)
            }
            for i in 0..<fresh {
                let d = 1 - dots[i]
                if results.count < ef || d < bound {
                    let c = Candidate(distance: d, slot: ids[i])
                    candidates.insert(c)
                    if acceptor.accepts(c.slot) {
                        if results.count < ef {
                            results.insert(c)
                        } else {
                            results.replaceMax(with: c)
                        }
                        bound = results.max!.distance
                    }
                }
            }
        }
    }
}
