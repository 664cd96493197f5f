import Foundation

extension HNSWIndex {
    /// Writes the index to `path` atomically (a temporary file renamed over the target) in the
    /// format described by ``IndexFile``.
    ///
    /// - Parameters:
    ///   - metadata: bytes stored with the index and returned by ``loadWithMetadata(from:)``.
    ///
    /// - Throws: ``IndexError/fileAccess(path:reason:)`` when the file cannot be written; an
    ///   existing file at `path` is then left as it was.
    /// - Complexity: O(n · (dimension + M)).
    public func save(to path: String, metadata: [UInt8] = []) throws(IndexError) {
        let writer = try IndexFileWriter(path: path)
        let s = storage
        let n = s.count
        let header = IndexFile.Header(
            kind: .hnsw, dimension: dimension, slots: n, live: count, m: configuration.m,
            efConstruction: configuration.efConstruction, efSearch: configuration.efSearch,
            topLevel: maxLevel, seed: configuration.seed, entryPoint: entryPoint ?? .max,
            upperBlocks: s.upperCount, metadataLength: metadata.count, encoding: configuration.vectors)
        try header.write(to: writer)
        try writer.write(s.keys, count: n)
        try writer.write(s.tags, count: n)
        try writer.write(s.levels, count: n)
        try writer.write(s.flags, count: n)
        try writer.write(s.upperBlock, count: n)
        if configuration.vectors == .int8 {
            try writer.write(s.codes, count: n * dimension)
            try writer.write(s.scales, count: n)
        } else {
            try writer.write(s.vectors, count: n * dimension)
        }
        try writer.write(s.links0, count: n * s.stride0)
        try writer.write(s.upperLinks, count: s.upperCount * s.strideUpper)
        try freeSlots.withUnsafeBufferPointer { (free) throws(IndexError) in
            try writer.write(UnsafeRawBufferPointer(free))
        }
        try metadata.withUnsafeBufferPointer { (raw) throws(IndexError) in
            try writer.write(UnsafeRawBufferPointer(raw))
        }
        try writer.commit()
    }

    /// Deletes the temporary files of saves to `path` that never finished (the process was
    /// killed while writing), which a later save, made under another pid, would not reuse;
    /// each is as large as the index. Call it only when no other process may be saving to
    /// `path` (a cache does so while it holds its store's lock).
    ///
    /// - Returns: how many files were removed and their bytes.
    @discardableResult
    public static func removeUnfinishedSaves(of path: String) -> (files: Int, bytes: Int) {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        var removed = (files: 0, bytes: 0)
        let suffix = IndexFileWriter.temporarySuffix
        for candidate in names where candidate.hasPrefix(name + ".") && candidate.hasSuffix(suffix) {
            guard let pid = Int32(candidate.dropFirst(name.count + 1).dropLast(suffix.count)), pid != getpid() else { continue }
            let full = folder.isEmpty ? candidate : folder + "/" + candidate
            let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? 0
            if (try? FileManager.default.removeItem(atPath: full)) != nil {
                removed.files += 1
                removed.bytes += size
            }
        }
        return removed
    }

    /// Reads an index written by ``save(to:)``.
    ///
    /// ```swift
    /// let index = try HNSWIndex.load(from: "cache.hnsw")
    /// ```
    ///
    /// - Throws: ``IndexError/fileAccess(path:reason:)``, ``IndexError/notAnIndexFile(path:)``,
    ///   ``IndexError/unsupportedVersion(path:found:supported:)``,
    ///   ``IndexError/truncatedFile(path:expectedBytes:actualBytes:)`` or
    ///   ``IndexError/corruptFile(path:reason:)``, each naming the file and what is wrong.
    public static func load(from path: String) throws(IndexError) -> HNSWIndex {
        try loadWithMetadata(from: path).index
    }

    /// ``load(from:)``, also returning the metadata given to ``save(to:metadata:)``.
    public static func loadWithMetadata(from path: String) throws(IndexError) -> (index: HNSWIndex, metadata: [UInt8]) {
        let reader = try IndexFileReader(path: path)
        let h = try IndexFile.Header.read(from: reader, expecting: .hnsw)
        let configuration = HNSWConfiguration(
            m: h.m, efConstruction: max(h.efConstruction, h.m), efSearch: max(h.efSearch, 1), seed: h.seed,
            vectors: h.encoding)
        var index: HNSWIndex
        do {
            index = try HNSWIndex(dimension: h.dimension, configuration: configuration, capacity: max(h.slots, 1))
        } catch {
            throw .corruptFile(path: path, reason: "bad parameters: \(error)")
        }
        let s = index.storage
        s.reserveUpper(blocks: h.upperBlocks)
        s.count = h.slots
        s.upperCount = h.upperBlocks
        try reader.read(into: s.keys, count: h.slots)
        try reader.read(into: s.tags, count: h.slots)
        try reader.read(into: s.levels, count: h.slots)
        try reader.read(into: s.flags, count: h.slots)
        try reader.read(into: s.upperBlock, count: h.slots)
        if h.encoding == .int8 {
            try reader.read(into: s.codes, count: h.slots * h.dimension)
            try reader.read(into: s.scales, count: h.slots)
        } else {
            try reader.read(into: s.vectors, count: h.slots * h.dimension)
        }
        try reader.read(into: s.links0, count: h.slots * s.stride0)
        try reader.read(into: s.upperLinks, count: h.upperBlocks * s.strideUpper)
        var free = [UInt32](repeating: 0, count: h.slots - h.live)
        try free.withUnsafeMutableBufferPointer { (buffer) throws(IndexError) in
            if let base = buffer.baseAddress { try reader.read(into: base, count: buffer.count) }
        }
        let metadata = try reader.readMetadata(count: h.metadataLength)
        try reader.verifyChecksum()

        index.freeSlots = free
        index.maxLevel = h.topLevel
        index.entryPoint = h.slots == 0 ? nil : h.entryPoint
        try index._validateLoaded(header: h, path: path)
        return (index, metadata)
    }

    /// Checks what the checksum cannot: that the structure is one this code could have written
    /// (a file from a buggy or foreign writer must not crash a search later). Fills the key map.
    mutating func _validateLoaded(header h: IndexFile.Header, path: String) throws(IndexError) {
        func corrupt(_ reason: String) -> IndexError { .corruptFile(path: path, reason: reason) }
        let g = storage.view
        let n = h.slots
        if n > 0 {
            guard h.entryPoint < UInt32(n), g.level(h.entryPoint) == h.topLevel else {
                throw corrupt("entry point \(h.entryPoint) is not a node of the top level \(h.topLevel)")
            }
        }
        var deleted = 0
        slotOfKey.reserveCapacity(h.live)
        for s in 0..<n {
            let slot = UInt32(s)
            let level = g.level(slot)
            guard level <= h.topLevel else { throw corrupt("node \(s) has level \(level) above the top level") }
            guard g.flags[s] & ~HNSWStorage.deletedFlag == 0 else { throw corrupt("node \(s) has unknown flags") }
            if level == 0 {
                guard g.upperBlock[s] == .max else { throw corrupt("node \(s) of level 0 has upper links") }
            } else {
                guard Int(g.upperBlock[s]) + level <= h.upperBlocks else {
                    throw corrupt("node \(s) has upper links outside the link pool")
                }
            }
            for l in 0...level {
                let list = g.links(slot, level: l)
                let c = Int(list[0])
                guard c <= maxLinks(level: l) else { throw corrupt("node \(s) has \(c) links on level \(l)") }
                for j in stride(from: 1, through: c, by: 1) where Int(list[j]) >= n {
                    throw corrupt("node \(s) links to slot \(list[j]) of \(n)")
                }
            }
            if g.isDeleted(slot) {
                deleted += 1
            } else if slotOfKey.updateValue(slot, forKey: g.keys[s]) != nil {
                throw corrupt("key \(g.keys[s]) appears twice")
            }
        }
        guard slotOfKey.count == h.live, deleted == n - h.live else {
            throw corrupt("header says \(h.live) live vectors, found \(slotOfKey.count)")
        }
        guard Set(freeSlots).count == freeSlots.count,
              freeSlots.allSatisfy({ Int($0) < n && g.isDeleted($0) })
        else {
            throw corrupt("the free-slot list does not match the deleted nodes")
        }
        for s in 0..<n where !g.isDeleted(UInt32(s)) {
            // A vector that is not unit length would make similarities wrong without an error.
            let norm = g.similarity(between: UInt32(s), and: UInt32(s))
            guard norm.isFinite, abs(norm - 1) < 1e-3 else { throw corrupt("vector of node \(s) is not normalised") }
        }
    }
}

extension FlatIndex {
    /// Writes the index to `path` atomically (see ``IndexFile``).
    ///
    /// - Throws: ``IndexError/fileAccess(path:reason:)``.
    public func save(to path: String, metadata: [UInt8] = []) throws(IndexError) {
        let writer = try IndexFileWriter(path: path)
        var header = IndexFile.Header(kind: .flat, dimension: dimension, slots: count, live: count)
        header.metadataLength = metadata.count
        try header.write(to: writer)
        try rowKeys.withUnsafeBufferPointer { (k) throws(IndexError) in
            try writer.write(UnsafeRawBufferPointer(k))
        }
        try vectors.withUnsafeBufferPointer { (v) throws(IndexError) in
            try writer.write(UnsafeRawBufferPointer(v))
        }
        try metadata.withUnsafeBufferPointer { (raw) throws(IndexError) in
            try writer.write(UnsafeRawBufferPointer(raw))
        }
        try writer.commit()
    }

    /// Reads an index written by ``save(to:)``.
    ///
    /// - Throws: as ``HNSWIndex/load(from:)``.
    public static func load(from path: String) throws(IndexError) -> FlatIndex {
        let reader = try IndexFileReader(path: path)
        let h = try IndexFile.Header.read(from: reader, expecting: .flat)
        var index = try FlatIndex(dimension: h.dimension)
        var keys = ContiguousArray<UInt64>(repeating: 0, count: h.slots)
        var vectors = ContiguousArray<Float>(repeating: 0, count: h.slots * h.dimension)
        try keys.withUnsafeMutableBufferPointer { (k) throws(IndexError) in
            if let base = k.baseAddress { try reader.read(into: base, count: k.count) }
        }
        try vectors.withUnsafeMutableBufferPointer { (v) throws(IndexError) in
            if let base = v.baseAddress { try reader.read(into: base, count: v.count) }
        }
        _ = try reader.readMetadata(count: h.metadataLength)
        try reader.verifyChecksum()
        for row in 0..<h.slots {
            let norm = vectors.withUnsafeBufferPointer { v in
                VectorMath.dot(v.baseAddress! + row * h.dimension, v.baseAddress! + row * h.dimension, count: h.dimension)
            }
            guard norm.isFinite, abs(norm - 1) < 1e-3 else {
                throw .corruptFile(path: path, reason: "vector of row \(row) is not normalised")
            }
        }
        for (row, key) in keys.enumerated() where index.rowOfKey.updateValue(row, forKey: key) != nil {
            throw .corruptFile(path: path, reason: "key \(key) appears twice")
        }
        index.rowKeys = keys
        index.vectors = vectors
        return index
    }
}
