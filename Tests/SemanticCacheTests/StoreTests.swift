#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import GRDB
import SemanticCache
import Testing
import TestSupport

@Suite("SQLiteCacheStore")
struct StoreTests {
    static func entry(_ prompt: String, vector: [Float]? = [1, 0, 0]) -> CacheEntry {
        let ns = Namespace(id: Digest128(hashing: Array("ns".utf8)), label: "t/m")
        return CacheEntry(
            namespace: ns, exactKey: Digest128(hashing: Array(prompt.utf8)), prompt: prompt, vector: vector,
            response: Data("{}".utf8), model: "m", createdAt: Date(timeIntervalSince1970: 1000), expiresAt: nil,
            promptTokens: 3, completionTokens: 4)
    }

    @Test("keys are assigned, never reused after a delete, and entries round-trip")
    func keys() async throws {
        // Given a new store on a real file
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteCacheStore(path: dir.path("s.sqlite"))
        // When entries are inserted, one deleted, and another inserted
        let a = try await store.insert(Self.entry("a"))
        let b = try await store.insert(Self.entry("b", vector: nil))
        #expect(try await store.delete(keys: [b.key, 999]) == [b.key])
        let c = try await store.insert(Self.entry("c"))
        // Then keys grow and the deleted one is not handed out again
        #expect(a.key < b.key && b.key < c.key)
        #expect(try await store.entry(key: a.key) == a)
        #expect(try await store.entry(key: b.key) == nil)
        #expect(try await store.vectors(keys: [a.key, c.key]) == [a.key: [1, 0, 0], c.key: [1, 0, 0]])
        #expect(try await store.summaries().map(\.key) == [a.key, c.key])
    }

    @Test("usage and counters accumulate; metadata is kept")
    func usage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteCacheStore(path: dir.path("s.sqlite"))
        let a = try await store.insert(Self.entry("a"))
        var batch = UsageBatch()
        batch.hits[a.key] = (2, Date(timeIntervalSince1970: 2000))
        var c = NamespaceCounters(namespace: a.namespace.id, label: "t/m")
        c.hits = 2
        c.savedPromptTokens = 6
        batch.counters[a.namespace.id] = c
        try await store.recordUsage(batch)
        try await store.recordUsage(batch)
        #expect(try await store.entry(key: a.key)?.hitCount == 4)
        #expect(try await store.namespaceCounters().first?.savedPromptTokens == 12)
        try await store.setMetadata("embedder", "x")
        try await store.setMetadata("embedder", "y")
        #expect(try await store.metadata("embedder") == "y")
        #expect(try await store.purge(namespace: a.namespace.id) == [a.key])
        #expect(try await store.namespaceCounters().isEmpty)
    }

    @Test("a file that is not a database is refused with its path")
    func notADatabase() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("bad.sqlite")
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect {
            try SQLiteCacheStore(path: path)
        } throws: { error in
            let message = (error as? CacheError)?.description ?? ""
            return message.contains(path) && message.contains("move the file away")
        }
    }

    @Test("a cache file with damaged pages is reported with what to do, also when only reading its entries finds it")
    func damaged() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("damaged.sqlite")
        do {
            let store = try SQLiteCacheStore(path: path)
            for i in 0..<400 {
                var entry = Self.entry("prompt \(i)")
                entry.response = Data(repeating: UInt8(i % 251), count: 2_000)
                _ = try await store.insert(entry)
            }
        }
        // The last third of the pages overwritten (a disk that lost them, a copy gone wrong): the
        // schema on the first pages still opens, the entries' pages do not read back.
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try file.seekToEnd()
        try file.seek(toOffset: size * 2 / 3)
        try file.write(contentsOf: Data(repeating: 0x42, count: Int(size - size * 2 / 3)))
        try file.close()
        let store = try SQLiteCacheStore(path: path)
        await #expect {
            try await store.summaries()
        } throws: { error in
            let message = (error as? CacheError)?.description ?? ""
            return message.contains("reading entry summaries") && message.contains(path)
                && message.contains("move the file away")
        }
    }

    @Test("another program's SQLite database is refused and left as it was")
    func foreignDatabase() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("app.db")
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        }
        #expect {
            try SQLiteCacheStore(path: path)
        } throws: { error in
            (error as? CacheError)?.description.contains("\(path) is an SQLite database of something else") == true
        }
        let (tables, journal) = try DatabaseQueue(path: path).read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
             try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(tables == ["users"])
        #expect(journal == "delete")
    }

    @Test("an exclusive store is refused to a second opener until the first is gone")
    func exclusive() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("cache.sqlite")
        var first: SQLiteCacheStore? = try SQLiteCacheStore(path: path, exclusive: true)
        #expect {
            try SQLiteCacheStore(path: path, exclusive: true)
        } throws: { error in
            (error as? CacheError)?.description.contains("is in use by another Deja process (pid \(getpid()))") == true
        }
        #expect(first != nil)
        first = nil
        _ = try SQLiteCacheStore(path: path, exclusive: true)
    }

    /// A refused opener closes its lock file once. Closing it twice would close whatever file
    /// another thread had opened under the same number in between (in the gateway, a SQLite
    /// connection; in the tests, a neighbour's database, which then read as "disk I/O error").
    @Test("a refused opener closes only its own file descriptor")
    func refusedOpenerClosesOnce() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("cache.sqlite")
        let holder = try SQLiteCacheStore(path: path, exclusive: true)
        let stop = StopFlag()
        // A neighbour that keeps opening a file and checks it is still open before closing it.
        let neighbour = Task.detached { () -> Int in
            var lost = 0
            while !stop.value.load(ordering: .acquiring) {
                let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                for _ in 0..<50 where fcntl(fd, F_GETFD) < 0 { lost += 1; break }
                if close(fd) != 0 { lost += 1 }
            }
            return lost
        }
        for _ in 0..<3000 {
            #expect(throws: CacheError.self) { try SQLiteCacheStore(path: path, exclusive: true) }
        }
        stop.value.store(true, ordering: .releasing)
        #expect(await neighbour.value == 0)
        withExtendedLifetime(holder) {}
    }
}

private final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
