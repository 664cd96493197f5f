import Embedding
import Foundation
import SemanticCache
import Testing
import TestSupport
import VectorIndex

@Suite("SemanticCache lifecycle")
struct LifecycleTests {
    typealias F = CacheFixture

    @Test("an entry expires after its TTL and is never served after it")
    func ttl() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.ttl = 60
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        try await cache.insert(F.request("What is the capital of France?"), response: F.answer("b"), model: "gpt-test", ttl: 3600)
        fixture.clock.advance(by: 59)
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit != nil)
        fixture.clock.advance(by: 1)
        // Expired but not yet swept: still never served, exactly or by similarity.
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit == nil)
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit == nil)
        #expect(try await cache.lookup(F.request("What is the capital of France?")).hit != nil)
        let expired = try await cache.maintain()
        #expect(expired == 1)
        #expect(cache.stats.entries == 1)
    }

    /// The upkeep keeps a schedule of expiries rather than scanning every entry: it must find
    /// each entry when it is due, once, whatever happened to the others in between.
    @Test("the upkeep expires each entry when due and only then, through deletes, replacements and restarts")
    func expirySchedule() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.ttl = 0  // no expiry unless given
        var cache = try await fixture.open()
        var keys: [Int: UInt64] = [:]
        for ttl in [50, 10, 40, 20, 30] {
            keys[ttl] = try await cache.insert(
                F.request("Question number \(ttl) about the weather"), response: F.answer("\(ttl)"), model: "gpt-test",
                ttl: Double(ttl)).key
        }
        try await cache.insert(F.request("A question that never expires"), response: F.answer("forever"), model: "gpt-test")
        #expect(try await cache.delete(key: keys[20]!))
        // The same request answered again: the 40 s entry is replaced by one that lives 100 s.
        let renewed = try await cache.insert(
            F.request("Question number 40 about the weather"), response: F.answer("again"), model: "gpt-test", ttl: 100).key
        var expiredAt: [Int: Int] = [:]
        for second in stride(from: 5, through: 60, by: 5) {
            fixture.clock.advance(by: 5)
            if second == 35 {  // a restart in the middle: the schedule is rebuilt from the store
                try await cache.close()
                cache = try await fixture.open()
            }
            let n = try await cache.maintain()
            if n > 0 { expiredAt[second] = n }
        }
        #expect(expiredAt == [10: 1, 30: 1, 50: 1], "the 20 s entry was deleted, the 40 s one renewed")
        #expect(try await cache.entry(key: renewed) != nil)
        #expect(cache.stats.entries == 2)
        fixture.clock.advance(by: 50)
        #expect(try await cache.maintain() == 1)
        #expect(try await cache.lookup(F.request("A question that never expires")).hit != nil)
    }

    @Test("a lookup with a maximum age passes over older entries, exact and similar, and a hit reports its age")
    func maxAge() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        fixture.clock.advance(by: 100)
        for prompt in ["How do I reset my password?", "How can I reset my password?"] {
            #expect(try await cache.lookup(F.request(prompt), options: LookupOptions(maxAge: 99)).hit == nil, "\(prompt)")
            let hit = try await cache.lookup(F.request(prompt), options: LookupOptions(maxAge: 100)).hit
            #expect(hit?.age == 100, "\(prompt)")
        }
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit?.kind == .exact)
    }

    @Test("at capacity the least recently used entries are evicted")
    func lru() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.maxEntries = 10
        let cache = try await fixture.open()
        let prompts = (0..<10).map { "Question number \($0) about topic \(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"][$0])" }
        for p in prompts {
            fixture.clock.advance(by: 1)
            try await cache.insert(F.request(p), response: F.answer(p), model: "gpt-test")
        }
        // Use the oldest one again, so it becomes the most recently used.
        fixture.clock.advance(by: 1)
        #expect(try await cache.lookup(F.request(prompts[0])).hit != nil)
        fixture.clock.advance(by: 1)
        try await cache.insert(F.request("One more question about omega"), response: F.answer("new"), model: "gpt-test")
        #expect(cache.stats.entries <= 10)
        #expect(try await cache.lookup(F.request(prompts[0])).hit != nil, "recently used entry survived")
        #expect(try await cache.lookup(F.request(prompts[1])).hit == nil, "least recently used entry was evicted")
        #expect(try await cache.lookup(F.request("One more question about omega")).hit != nil)
    }

    @Test("byte capacity evicts too, and an entry larger than the cache is refused")
    func bytes() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.maxBytes = 1 << 16
        let cache = try await fixture.open()
        let big = Data(repeating: 0x61, count: 20_000)
        for i in 0..<5 {
            fixture.clock.advance(by: 1)
            try await cache.insert(F.request("Prompt number \(i) with words"), response: big, model: "gpt-test")
        }
        #expect(cache.stats.bytes <= 1 << 16)
        await #expect(throws: CacheError.self) {
            try await cache.insert(F.request("Too big"), response: Data(count: 1 << 17), model: "gpt-test")
        }
    }

    /// Three answers stored in `cache`, their keys in order.
    static func insertThree(_ cache: SemanticCache) async throws -> [UInt64] {
        var keys: [UInt64] = []
        for p in ["How do I reset my password?", "What is the capital of France?", "How do I boil an egg?"] {
            keys.append(try await cache.insert(F.request(p), response: F.answer(p), model: "gpt-test").key)
        }
        return keys
    }

    @Test("cache.hnsw.vectors: int8 answers as float32 does, and changing it rebuilds the snapshot's index at start")
    func int8Vectors() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let keys: [UInt64]
        do {
            let cache = try await fixture.open()
            keys = try await Self.insertThree(cache)
            try await cache.close()
        }
        fixture.configuration.hnsw.vectors = .int8
        let cache = try await fixture.open()
        let index = cache.stats.index
        #expect(index.count == 3)
        #expect(index.vectorBytes == 3 * (index.dimension + 4), "the index was rebuilt with int8 vectors")
        #expect(try await cache.lookup(F.request("How can I boil an egg?")).hit?.key == keys[2])
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit?.key == keys[0])
        #expect(try await cache.lookup(F.request("What is the speed of light?")).hit == nil)
    }

    @Test("entries, hits and counters survive a restart on the same file, with or without the snapshot")
    func restart() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let keys: [UInt64]
        do {
            let cache = try await fixture.open()
            keys = try await Self.insertThree(cache)
            _ = try await cache.lookup(F.request("How can I reset my password?"))
            try await cache.close()
        }
        #expect(FileManager.default.fileExists(atPath: fixture.indexPath))
        do {
            let cache = try await fixture.open()
            #expect(cache.stats.entries == 3)
            #expect(cache.stats.semanticHits == 1)
            #expect(try await cache.lookup(F.request("How can I boil an egg?")).hit?.key == keys[2])
            #expect(try await cache.entry(key: keys[0])?.hitCount == 1)
            // Changes after the snapshot: one deleted, one added (the snapshot is not saved again).
            #expect(try await cache.delete(key: keys[1]))
            try await cache.insert(F.request("What is the speed of light?"), response: F.answer("c"), model: "gpt-test")
        }
        do {
            let cache = try await fixture.open()
            #expect(cache.stats.entries == 3)
            #expect(cache.stats.index.count == 3, "the snapshot was reconciled with the store")
            #expect(try await cache.lookup(F.request("What is the capital of France?")).hit == nil)
            #expect(try await cache.lookup(F.request("what's the speed of light")).hit != nil)
        }
        // A damaged snapshot is not fatal: the index is rebuilt from the store.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: fixture.indexPath))
        let rebuilt = try await fixture.open()
        #expect(rebuilt.stats.index.count == 3)
        #expect(try await rebuilt.lookup(F.request("How can I boil an egg?")).hit != nil)
    }

    @Test("a store emptied or replaced beside a snapshot of entries is refused, the snapshot kept; a purged store is not")
    func lostStoreRefused() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        do {
            let cache = try await fixture.open()
            for p in ["How do I reset my password?", "What is the capital of France?"] {
                try await cache.insert(F.request(p), response: F.answer(p), model: "gpt-test")
            }
            try await cache.close()
        }
        let snapshot = try Data(contentsOf: URL(fileURLWithPath: fixture.indexPath))
        // Truncated to 0 bytes (a failed copy): SQLite would take it for a new database
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.storePath + suffix) }
        FileManager.default.createFile(atPath: fixture.storePath, contents: Data())
        for _ in 0..<2 {
            do {
                _ = try await fixture.open()
                Issue.record("an empty store beside a snapshot of 2 entries was opened")
            } catch let error as CacheError {
                guard case .storeLost(let store, let path, let entries) = error else {
                    Issue.record("wrong error: \(error)")
                    continue
                }
                #expect(store.hasSuffix("cache.sqlite") && path == fixture.indexPath && entries == 2)
                #expect(error.description.contains("delete \(fixture.indexPath) to start an empty cache"))
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.indexPath)) == snapshot, "the snapshot is left as it was")
        // The operator's way to start fresh: delete the snapshot
        try FileManager.default.removeItem(atPath: fixture.indexPath)
        do {
            let cache = try await fixture.open()
            #expect(cache.stats.entries == 0)
            try await cache.insert(F.request("How do I boil an egg?"), response: F.answer("egg"), model: "gpt-test")
            try await cache.close()
        }
        // A store emptied by deleting its entries (it has held a cache) beside an older snapshot is
        // reconciled as before, not refused.
        let older = try Data(contentsOf: URL(fileURLWithPath: fixture.indexPath))
        do {
            let cache = try await fixture.open()
            for entry in try await cache.entries(limit: 10).entries { #expect(try await cache.delete(key: entry.key)) }
            try await cache.close()
        }
        try older.write(to: URL(fileURLWithPath: fixture.indexPath))
        let reopened = try await fixture.open()
        #expect(reopened.stats.entries == 0 && reopened.stats.index.count == 0)
    }

    /// Every turn of a conversation is a namespace of its own; their counters must not pile up
    /// forever once their entries are gone, and the totals must not change when they are summed.
    @Test("counters of namespaces without entries are summed into one past idle_namespace_stats, totals kept, on disk too")
    func idleCountersRetired() async throws {
        var fixture = try F()
        fixture.configuration.idleNamespaceStats = 3
        defer { fixture.directory.remove() }
        do {
            let cache = try await fixture.open()
            let kept = try await cache.insert(F.request("How do I boil an egg?", system: "kept"), response: F.answer("egg"), model: "gpt-test")
            #expect(try await cache.lookup(F.request("How do I boil an egg?", system: "kept")).hit?.key == kept.key)
            for turn in 0..<3 { _ = try await cache.lookup(F.request("And then?", system: "conversation turn \(turn)")) }
            try await cache.maintain()
            #expect(cache.stats.namespaces.count == 4, "three idle namespaces are within the bound")
            for turn in 3..<10 { _ = try await cache.lookup(F.request("And then?", system: "conversation turn \(turn)")) }
            try await cache.maintain()
            let stats = cache.stats
            #expect(stats.misses == 10 && stats.hits == 1, "totals unchanged: \(stats.misses) misses, \(stats.hits) hits")
            #expect(stats.namespaces.map(\.label).sorted() == [SemanticCache.retiredNamespaceLabel, stats.namespaces.first { $0.entries == 1 }!.label].sorted())
            #expect(stats.namespaces.first { $0.label == SemanticCache.retiredNamespaceLabel }?.misses == 10)
            #expect(stats.namespaces.first { $0.entries == 1 }?.hits == 1, "a namespace with entries keeps its own counters")
            try await cache.close()
        }
        let reopened = try await fixture.open()
        #expect(reopened.stats.namespaces.count == 2)
        #expect(reopened.stats.misses == 10 && reopened.stats.hits == 1)
    }

    @Test("a store built with another embedder is refused, or re-embedded when configured")
    func embedderMismatch() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let first = try await fixture.open()
        try await first.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        try await first.close()
        let other = try HashingEmbedder(configuration: .init(dimension: 128))
        do {
            _ = try await fixture.open(embedder: other)
            Issue.record("opening with another embedder must fail")
        } catch let error as CacheError {
            guard case .embedderMismatch(_, let stored, let configured) = error else {
                Issue.record("expected embedderMismatch, got \(error)")
                return
            }
            #expect(stored.contains("dim=384"))
            #expect(configured.contains("dim=128"))
            #expect(error.description.contains("rebuild_on_embedder_change"))
        }
        fixture.configuration.rebuildOnEmbedderChange = true
        let reembedded = try await fixture.open(embedder: other)
        #expect(reembedded.stats.index.dimension == 128)
        #expect(try await reembedded.lookup(F.request("How can I reset my password?")).hit != nil)
    }

    @Test("delete, purge and search")
    func entries() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        let a = try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        _ = try await cache.insert(F.request("How do I boil an egg?"), response: F.answer("b"), model: "gpt-test")
        let other = try await cache.insert(F.request("How do I boil an egg?", tenant: "globex"), response: F.answer("c"), model: "gpt-test")

        let found = try await cache.search(text: "reset password", k: 5)
        #expect(found.first?.entry.key == a.key)
        let inNamespace = try await cache.search(text: "boil egg", namespace: other.namespace.id, k: 5)
        #expect(inNamespace.map(\.entry.key) == [other.key])

        #expect(try await cache.delete(key: a.key))
        #expect(try await !cache.delete(key: a.key))
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit == nil)
        #expect(try await cache.purge(namespace: other.namespace.id) == 1)
        #expect(try await cache.lookup(F.request("How do I boil an egg?", tenant: "globex")).hit == nil)
        #expect(try await cache.lookup(F.request("How do I boil an egg?")).hit != nil)
        #expect(cache.stats.entries == 1)
    }

    /// A page is filled from the newest keys; expired entries among them are skipped and more
    /// keys are taken, so a page is full whenever enough live entries remain.
    @Test("listing pages newest first, skip expired entries, and say whether older ones remain")
    func listing() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.ttl = 0
        let cache = try await fixture.open()
        var live: [UInt64] = []
        for i in 0..<20 {
            // Every entry but each third expires in 10 s.
            let entry = try await cache.insert(
                F.request("Question number \(i) about the weather"), response: F.answer("\(i)"), model: "gpt-test",
                ttl: i % 3 == 0 ? nil : 10)
            if i % 3 == 0 { live.append(entry.key) }
        }
        let other = try await cache.insert(F.request("Another tenant", tenant: "globex"), response: F.answer("x"), model: "gpt-test")
        fixture.clock.advance(by: 11)
        live.append(other.key)
        live.sort(by: >)

        var pages: [[UInt64]] = []
        var before: UInt64? = nil
        var more = true
        while more {
            let page = try await cache.entries(before: before, limit: 3)
            pages.append(page.entries.map(\.key))
            more = page.more
            before = page.entries.last?.key
            if page.entries.isEmpty { break }
        }
        #expect(pages.flatMap { $0 } == live)
        #expect(pages.dropLast().allSatisfy { $0.count == 3 })
        let acme = try await cache.entries(in: [F.request("x").namespace(shared: false).id], limit: 100)
        #expect(acme.entries.map(\.key) == Array(live.dropFirst()) && !acme.more)
        let newest = try await cache.entries(limit: 1)
        #expect(newest.entries.map(\.key) == [other.key] && newest.more)
    }

    @Test("a newer answer to the same exact request replaces the older one")
    func replace() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        let first = try await cache.insert(F.request("How do I reset my password?"), response: F.answer("old"), model: "gpt-test")
        let second = try await cache.insert(F.request("How do I reset my password?"), response: F.answer("new"), model: "gpt-test")
        #expect(first.key != second.key)
        #expect(cache.stats.entries == 1)
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit?.response == F.answer("new"))
        #expect(try await cache.entry(key: first.key) == nil)
    }
}
