internal import CBLAS
import Dispatch
import Foundation
import HeapModule
import Synchronization

extension HNSWIndex {
    /// Inserts many vectors using every core: the bulk load behind index rebuilds.
    ///
    /// ```swift
    /// try index.insert(contentsOf: rows, keys: ids, threads: 8) { done in print(done) }
    /// ```
    ///
    /// New keys are inserted in batches. Each batch is planned in parallel against the graph as
    /// it was before the batch (the read-only half of an insert), its members are matched with
    /// each other exactly by one `cblas_sgemm`, and then links are written in parallel, each
    /// thread owning the lists it writes. The graph is the same for any number of threads.
    /// Keys already in the index, and keys given twice (the last row wins), are inserted one at
    /// a time afterwards.
    ///
    /// - Parameters:
    ///   - vectors: `keys.count × dimension` floats, row-major; they need not be normalised.
    ///   - keys: one key per row.
    ///   - tags: one tag per row (default 0).
    ///   - threads: worker threads (`nil`: all cores).
    ///   - progress: called after each batch with the number of rows inserted so far.
    /// - Throws: ``IndexError`` naming the first bad row; the index is then unchanged.
    /// - Complexity: about O(n · efConstruction · M · log n / threads) inner products.
    public mutating func insert(
        contentsOf vectors: [Float], keys: [UInt64], tags: [UInt32]? = nil, threads: Int? = nil,
        progress: ((Int) -> Void)? = nil
    ) throws(IndexError) {
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard vectors.count == keys.count * dimension else {
            throw .invalidParameter(
                "bulk insert: \(vectors.count) floats for \(keys.count) keys of dimension \(dimension)")
        }
        let tags = tags ?? [UInt32](repeating: 0, count: keys.count)
        guard tags.count == keys.count else {
            throw .invalidParameter("bulk insert: \(tags.count) tags for \(keys.count) keys")
        }
        var normalized = [Float](repeating: 0, count: vectors.count)
        try vectors.withUnsafeBufferPointer { (source) throws(IndexError) in
            try normalized.withUnsafeMutableBufferPointer { (destination) throws(IndexError) in
                for row in 0..<keys.count {
                    do {
                        try VectorMath.normalize(
                            UnsafeBufferPointer(rebasing: source[row * dimension..<(row + 1) * dimension]),
                            dimension: dimension, into: destination.baseAddress! + row * dimension)
                    } catch {
                        throw .invalidParameter("bulk insert: row \(row) (key \(keys[row])): \(error)")
                    }
                }
            }
        }
        var lastRow: [UInt64: Int] = [:]
        lastRow.reserveCapacity(keys.count)
        for (row, key) in keys.enumerated() { lastRow[key] = row }
        var fresh: [Int] = []
        var updates: [Int] = []
        for (row, key) in keys.enumerated() where lastRow[key] == row {
            if contains(key: key) { updates.append(row) } else { fresh.append(row) }
        }

        reserveCapacity(storage.count + fresh.count)
        let batchSize = 1024
        var done = 0
        var start = 0
        while start < fresh.count {
            let end = min(start + batchSize, fresh.count)
            _insertBatch(rows: fresh[start..<end], vectors: normalized, keys: keys, tags: tags, threads: max(threads, 1))
            done += end - start
            progress?(done)
            start = end
        }
        for row in updates {
            let vector = Array(normalized[row * dimension..<(row + 1) * dimension])
            try insert(key: keys[row], vector: vector, tag: tags[row])
            done += 1
        }
        if !updates.isEmpty { progress?(done) }
    }

    /// A copy holding only the live vectors, rebuilt without tombstones.
    ///
    /// - Complexity: as ``insert(contentsOf:keys:tags:threads:progress:)`` over the live vectors.
    public func compacted(threads: Int? = nil) -> HNSWIndex {
        var copy = try! HNSWIndex(dimension: dimension, configuration: configuration, capacity: max(count, 1))
        let liveKeys = Array(slotOfKey.keys).sorted()
        let graph = storage.view
        let rows = [Float](unsafeUninitializedCapacity: liveKeys.count * dimension) { buffer, initialized in
            for (row, key) in liveKeys.enumerated() {
                graph.decode(slotOfKey[key]!, into: buffer.baseAddress! + row * dimension)
            }
            initialized = liveKeys.count * dimension
        }
        let tags = liveKeys.map { storage.tags[Int(slotOfKey[$0]!)] }
        // Cannot fail: the vectors are already normalised.
        try! copy.insert(contentsOf: rows, keys: liveKeys, tags: tags, threads: threads)
        return copy
    }

    /// Inserts one batch of new keys (see ``insert(contentsOf:keys:tags:threads:progress:)``).
    mutating func _insertBatch(rows: ArraySlice<Int>, vectors: [Float], keys: [UInt64], tags: [UInt32], threads: Int) {
        makeUnique()
        let first = storage.count
        let count = rows.count
        var topLevel = -1
        var topSlot: UInt32 = 0
        // The batch's rows side by side in float (whatever the storage keeps): the queries of
        // its graph searches and the operands of its matrix product.
        var batch = [Float](repeating: 0, count: count * dimension)
        vectors.withUnsafeBufferPointer { v in
            for (j, row) in rows.enumerated() {
                let level = randomLevel(for: keys[row])
                let slot = storage.appendSlot(level: level)
                let source = v.baseAddress! + row * dimension
                storage.view.store(source, at: slot)
                batch.withUnsafeMutableBufferPointer { b in
                    (b.baseAddress! + j * dimension).update(from: source, count: dimension)
                }
                storage.keys[Int(slot)] = keys[row]
                storage.tags[Int(slot)] = tags[row]
                slotOfKey[keys[row]] = slot
                if level > topLevel { (topLevel, topSlot) = (level, slot) }
            }
        }
        let graph = storage.view
        do {
            let snapshot = self
            // 1. Candidates from the graph as it was before the batch (new slots are unreachable).
            var plans = [[[Candidate]]](repeating: [], count: count)
            let dimension = self.dimension
            batch.withUnsafeBufferPointer { b in
                let b = SendableBuffer(b)
                plans.withUnsafeMutableBufferPointer { out in
                    let out = SendableBuffer(out)
                    _parallelFor(count, threads: threads) { j in
                        out.buffer[j] = snapshot._graphCandidates(
                            UInt32(first + j), query: b.buffer.baseAddress! + j * dimension, graph: graph)
                    }
                }
            }
            // 2. The batch against itself, exactly: G = X Xᵀ.
            var gram = [Float](repeating: 0, count: count * count)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(count), Int32(dimension),
                        1, batch, Int32(dimension), batch, Int32(dimension), 0, &gram, Int32(count))
            // 3. Each new node's own lists: graph and batch candidates, then the heuristic.
            gram.withUnsafeBufferPointer { g in
                let g = SendableBuffer(g)
                plans.withUnsafeBufferPointer { p in
                    let p = SendableBuffer(p)
                    _parallelFor(count, threads: threads) { j in
                        snapshot._linkNewNode(j, first: first, count: count, graphCandidates: p.buffer[j],
                                              gram: g.buffer, graph: graph)
                    }
                }
            }
        }
        // 4. The reverse links, grouped by the node that receives them; a group is one task.
        var edges: [(target: UInt64, source: UInt32)] = []
        edges.reserveCapacity(count * (storage.maxM + 2))
        for j in 0..<count {
            let slot = UInt32(first + j)
            for level in 0...graph.level(slot) {
                let list = graph.links(slot, level: level)
                for i in stride(from: 1, through: Int(list[0]), by: 1) {
                    edges.append((UInt64(level) << 32 | UInt64(list[i]), slot))
                }
            }
        }
        edges.sort { $0.target < $1.target || ($0.target == $1.target && $0.source < $1.source) }
        var groups: [Range<Int>] = []
        var lo = 0
        while lo < edges.count {
            var hi = lo + 1
            while hi < edges.count && edges[hi].target == edges[lo].target { hi += 1 }
            groups.append(lo..<hi)
            lo = hi
        }
        do {
            let snapshot = self
            edges.withUnsafeBufferPointer { e in
                let e = SendableBuffer(e)
                groups.withUnsafeBufferPointer { gr in
                    let gr = SendableBuffer(gr)
                    _parallelFor(gr.buffer.count, threads: threads) { i in
                        let range = gr.buffer[i]
                        let key = e.buffer[range.lowerBound].target
                        let sources = e.buffer[range].map(\.source)
                        snapshot._receiveLinks(UInt32(truncatingIfNeeded: key), level: Int(key >> 32),
                                               from: sources, graph: graph)
                    }
                }
            }
        }
        if entryPoint == nil || topLevel > maxLevel {
            entryPoint = topSlot
            maxLevel = topLevel
        }
        generation &+= 1
    }

    /// The `efConstruction` nearest live nodes of `slot` on each of its levels, nearest first,
    /// found by searching the graph (empty lists while the graph is empty). `query` is the
    /// slot's vector in float.
    func _graphCandidates(_ slot: UInt32, query: UnsafePointer<Float>, graph: GraphView) -> [[Candidate]] {
        let level = graph.level(slot)
        var result = [[Candidate]](repeating: [], count: level + 1)
        guard let entry = entryPoint else { return result }
        scratchPool.withScratch { scratch in
            // Rounded once, the int8 query walks the levels above as well as searching these.
            let queryScale = scratch.roundQuery(query, for: graph)
            var start = _greedyDescent(query, from: entry, fromLevel: maxLevel, toLevel: level, graph: graph,
                                       queryCodes: scratch.queryCodes, queryScale: queryScale)
            var l = min(level, maxLevel)
            while l >= 0 {
                _searchLayer(query, from: start, ef: configuration.efConstruction, level: l, graph: graph,
                             scratch: scratch, queryScale: queryScale, acceptor: LiveSlots(flags: graph.flags, excluded: slot))
                var found: [Candidate] = []
                found.reserveCapacity(scratch.results.count)
                while let c = scratch.results.popMin() { found.append(c) }
                if let nearest = found.first { start = nearest }
                result[l] = found
                l -= 1
            }
        }
        return result
    }

    /// Writes the lists of batch member `j` (slot `first + j`) on each of its levels: its graph
    /// candidates merged with the nearest batch members of at least that level, then the heuristic.
    func _linkNewNode(
        _ j: Int, first: Int, count: Int, graphCandidates: [[Candidate]], gram: UnsafeBufferPointer<Float>,
        graph: GraphView
    ) {
        let slot = UInt32(first + j)
        let ef = configuration.efConstruction
        for level in 0...graph.level(slot) {
            var top = TopK(k: ef)
            // Only the members before it, as if the batch were inserted one at a time: a node
            // that saw the whole batch would link only to its closest neighbours, and a batch of
            // well-separated clusters would become one island per cluster on level 0. The early
            // members' longer links are what join them (the later ones link back to them).
            for i in 0..<j where graph.level(UInt32(first + i)) >= level {
                top.offer(similarity: gram[j * count + i], row: UInt32(first + i))
            }
            var merged = top.sorted()
            if level < graphCandidates.count { merged.append(contentsOf: graphCandidates[level]) }
            merged.sort()
            let kept = merged.withUnsafeMutableBufferPointer { buffer in
                _selectNeighbors(buffer.baseAddress!, count: buffer.count, m: configuration.m, graph: graph)
            }
            let list = graph.links(slot, level: level)
            for i in 0..<kept { list[1 + i] = merged[i].slot }
            list[0] = UInt32(kept)
        }
    }

    /// Adds links from `target` on `level` to each of `sources`, appending while there is room
    /// and re-selecting the whole list with the heuristic when there is not.
    func _receiveLinks(_ target: UInt32, level: Int, from sources: [UInt32], graph: GraphView) {
        let list = graph.links(target, level: level)
        let n = Int(list[0])
        let present = UnsafeBufferPointer(start: list + 1, count: n)
        let missing = sources.filter { !present.contains($0) && $0 != target }
        if missing.isEmpty { return }
        if n + missing.count <= maxLinks(level: level) {
            for (i, s) in missing.enumerated() { list[1 + n + i] = s }
            list[0] = UInt32(n + missing.count)
            return
        }
        scratchPool.withScratch { scratch in
            missing.withUnsafeBufferPointer { extra in
                _relink(target, level: level, adding: extra, excluding: .max, graph: graph, scratch: scratch)
            }
        }
    }
}

/// Runs `body(i)` for every `i` in `0..<count` on up to `threads` threads, handing out chunks
/// of indices from a shared counter so that uneven work spreads out.
func _parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    if threads <= 1 || count < 2 {
        for i in 0..<count { body(i) }
        return
    }
    let next = Atomic<Int>(0)
    let chunk = max(1, min(16, count / (threads * 8)))
    DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
        while true {
            let start = next.wrappingAdd(chunk, ordering: .relaxed).oldValue
            if start >= count { break }
            for i in start..<min(start + chunk, count) { body(i) }
        }
    }
}

/// A buffer handed to parallel workers that each touch their own elements.
/// `@unchecked Sendable`: each worker writes only the elements it owns, and the caller waits
/// for all of them before reading.
struct SendableBuffer<Buffer>: @unchecked Sendable {
    let buffer: Buffer
    init(_ buffer: Buffer) { self.buffer = buffer }
}
