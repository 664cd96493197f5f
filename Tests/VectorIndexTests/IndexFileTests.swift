import Foundation
import Testing
import TestSupport
@testable import VectorIndex

@Suite("Index files")
struct IndexFileTests {
    static let data = ClusteredDataset(count: 3_000, dimension: 24, queries: 40, clusters: 30, seed: 5)

    /// An index with tombstones and a reused slot, so the file carries every section.
    static func sampleIndex(vectors: VectorEncoding = .float32) throws -> HNSWIndex {
        var index = try HNSWIndex(dimension: 24, configuration: HNSWConfiguration(vectors: vectors))
        for i in 0..<data.count { try index.insert(key: UInt64(i) * 3, vector: data.base(i), tag: UInt32(i % 5)) }
        for i in stride(from: 0, to: 600, by: 3) { index.remove(key: UInt64(i) * 3) }
        try index.insert(key: 99_999, vector: data.base(1))
        return index
    }

    @Test("XXH64 matches the reference test vectors")
    func xxhash() {
        func h(_ s: String) -> UInt64 { Array(s.utf8).withUnsafeBytes { XXHash64.hash($0) } }
        #expect(h("") == 0xEF46_DB37_51D8_E999)
        #expect(h("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(h("abc") == 0x44BC_2CF5_AD77_0999)
        let long = String(repeating: "Nobody inspects the spammish repetition", count: 7)
        var streamed = XXHash64()
        Array(long.utf8).withUnsafeBytes { raw in
            for chunk in stride(from: 0, to: raw.count, by: 13) {
                streamed.update(UnsafeRawBufferPointer(rebasing: raw[chunk..<min(chunk + 13, raw.count)]))
            }
        }
        #expect(streamed.finalize() == h(long))
    }

    @Test("a loaded index answers exactly as the saved one, and keeps doing so after inserts",
          arguments: VectorEncoding.allCases)
    func roundTrip(vectors: VectorEncoding) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var index = try Self.sampleIndex(vectors: vectors)
        let path = dir.path("index.hnsw")
        try index.save(to: path, metadata: Array("embedder=x;seq=42".utf8))
        // int8 files hold a byte and not four per component, plus a scale per slot.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let slots = index.storage.count
        let floatSize = IndexFile.Header(
            kind: .hnsw, dimension: 24, slots: slots, live: index.count, m: 16, upperBlocks: index.storage.upperCount,
            metadataLength: 17).expectedLength
        #expect(size == (vectors == .float32 ? floatSize : floatSize - slots * (24 * 4 - 24 - 4)))
        var (loaded, metadata) = try HNSWIndex.loadWithMetadata(from: path)
        #expect(String(decoding: metadata, as: UTF8.self) == "embedder=x;seq=42")
        #expect(loaded.tag(forKey: 3 * 7) == 2)
        loaded._checkInvariants()
        var expected = index.stats
        expected.memoryBytes = loaded.stats.memoryBytes  // capacity differs: the loaded one is exact
        #expect(loaded.stats == expected)
        #expect(loaded.configuration == index.configuration)
        #expect(loaded.configuration.vectors == vectors)
        for q in 0..<Self.data.queryCount {
            #expect(try loaded.search(Self.data.query(q), k: 10) == index.search(Self.data.query(q), k: 10))
        }
        // The free-slot order and the level seed survive, so later inserts agree too.
        for i in 0..<50 {
            try index.insert(key: 500_000 + UInt64(i), vector: Self.data.query(i % Self.data.queryCount))
            try loaded.insert(key: 500_000 + UInt64(i), vector: Self.data.query(i % Self.data.queryCount))
        }
        for q in 0..<Self.data.queryCount {
            #expect(try loaded.search(Self.data.query(q), k: 10) == index.search(Self.data.query(q), k: 10))
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".\(getpid()).deja-tmp"))
    }

    @Test("a flat index round-trips")
    func flatRoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var flat = try FlatIndex(dimension: 24)
        for i in 0..<500 { try flat.insert(key: UInt64(i), vector: Self.data.base(i)) }
        try flat.save(to: dir.path("flat.idx"))
        let loaded = try FlatIndex.load(from: dir.path("flat.idx"))
        #expect(loaded.count == 500)
        #expect(try loaded.search(Self.data.query(0), k: 5) == flat.search(Self.data.query(0), k: 5))
        #expect(throws: IndexError.wrongIndexKind(path: dir.path("flat.idx"), found: "flat", expected: "HNSW")) {
            try HNSWIndex.load(from: dir.path("flat.idx"))
        }
    }

    @Test("a truncated file is rejected as truncated, naming the file", arguments: [4, 40, 79, 5_000, -1])
    func truncated(cut: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("index.hnsw")
        try Self.sampleIndex().save(to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes = bytes.prefix(cut < 0 ? bytes.count - 1 : cut)
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            _ = try HNSWIndex.load(from: path)
            Issue.record("a truncated file loaded")
        } catch {
            if bytes.count < 8 {
                #expect(error == .notAnIndexFile(path: path))
            } else {
                guard case .truncatedFile(let p, _, let actual) = error else {
                    Issue.record("expected truncatedFile, got \(error)")
                    return
                }
                #expect(p == path)
                #expect(actual == bytes.count)
            }
            #expect(error.description.contains(path))
        }
    }

    @Test("a flipped byte anywhere is caught", arguments: [100, 20_000, 150_000, -9])
    func corrupted(offset: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("index.hnsw")
        try Self.sampleIndex().save(to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let at = offset < 0 ? bytes.count + offset : offset
        bytes[at] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect {
            try HNSWIndex.load(from: path)
        } throws: { error in
            guard let e = error as? IndexError, case .corruptFile(let p, let reason) = e else { return false }
            return p == path && reason.contains("checksum")
        }
    }

    @Test("foreign, empty, missing and future files are refused with their own errors")
    func foreign() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let text = dir.path("notes.txt")
        try Data("hello, this is not an index at all, just some text.\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: IndexError.notAnIndexFile(path: text)) { try HNSWIndex.load(from: text) }
        let empty = dir.path("empty")
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: IndexError.notAnIndexFile(path: empty)) { try HNSWIndex.load(from: empty) }
        let missing = dir.path("missing.hnsw")
        #expect(throws: IndexError.fileAccess(path: missing, reason: "No such file or directory")) {
            try HNSWIndex.load(from: missing)
        }
        let future = dir.path("future.hnsw")
        try Self.sampleIndex().save(to: future)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: future))
        bytes[8] = 9
        try bytes.write(to: URL(fileURLWithPath: future))
        #expect(throws: IndexError.unsupportedVersion(path: future, found: 9, supported: 1)) {
            try HNSWIndex.load(from: future)
        }
    }

    @Test("a failed save leaves the old file in place")
    func failedSave() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: IndexError.self) {
            try Self.sampleIndex().save(to: dir.path("no/such/dir/index.hnsw"))
        }
    }

    @Test("the temporary files of saves that never finished are removed, and nothing else")
    func unfinishedSaves() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let index = dir.path("cache.hnsw")
        var small = try HNSWIndex(dimension: 4)
        for key in 1...10 { try small.insert(key: UInt64(key), vector: [Float(key), 1, 2, 3]) }
        try small.save(to: index)
        let kept = ["cache.hnsw", "cache.hnsw.abc.deja-tmp", "other.hnsw.12345.deja-tmp", "cache.hnsw.\(getpid()).deja-tmp"]
        for name in kept.dropFirst() + ["cache.hnsw.12345.deja-tmp", "cache.hnsw.7.deja-tmp"] {
            try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: dir.path(name)))
        }
        let removed = HNSWIndex.removeUnfinishedSaves(of: index)
        #expect(removed.files == 2)
        #expect(removed.bytes == 2000)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.url.path))
        #expect(left == Set(kept))
        #expect(try HNSWIndex.load(from: index).count == 10)
    }
}
