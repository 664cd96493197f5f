import DejaSupport
import Embedding
import Foundation
import SemanticCache
import Testing
import TestSupport

/// Several caches on one PostgreSQL store (a real server on loopback), each with its own index,
/// kept in step by following the store's changes.
@Suite("PostgreSQL store, several instances", .serialized)
struct PostgresStoreTests {
    typealias F = CacheFixture

    /// A cache on the server's store, following its changes until the returned task is cancelled.
    static func instance(
        _ server: PostgresServer, clock: any CacheClock = SystemClock()
    ) async throws -> (SemanticCache, PostgresCacheStore, Task<Void, Never>) {
        let store = try await PostgresCacheStore(url: server.url)
        let cache = try await SemanticCache.open(
            configuration: CacheConfiguration(verifier: VerifierSettings(enabled: false)), embedder: try HashingEmbedder(), store: store,
            clock: clock)
        let follower = Task {
            while !Task.isCancelled {
                await store.waitForChanges(timeout: 1)
                _ = try? await cache.followChanges()
            }
        }
        return (cache, store, follower)
    }

    /// Waits up to `seconds` for `condition`; how long it took, in milliseconds.
    static func within(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Double? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(Int64(seconds * 1000)) {
            if try await condition() {
                let d = ContinuousClock.now - start
                return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    @Test("expiry is decided by one instance, the holder of the upkeep lease; another takes over when it stops")
    func upkeepOnce() async throws {
        try await PostgresServer.with { server in
            let clock = ManualClock()
            let (a, storeA, followA) = try await Self.instance(server, clock: clock)
            let (b, storeB, followB) = try await Self.instance(server, clock: clock)
            defer { for t in [followA, followB] { t.cancel() }; for s in [storeA, storeB] { s.close() } }

            _ = try await a.insert(F.request("Short-lived answer"), response: F.answer("soon gone"), model: "gpt-test", ttl: 60)
            #expect(try await Self.within(5) { b.size.entries == 1 } != nil)
            clock.advance(by: 61)
            // A claims the upkeep first and expires the entry for both; B, not holding it, deletes nothing.
            #expect(try await a.maintain() == 1)
            #expect(try await b.maintain() == 0)
            #expect(a.leadsUpkeep && !b.leadsUpkeep)
            #expect(try await Self.within(5) { b.size.entries == 0 } != nil, "the expiry reached B as a change")

            // A stops its upkeep (as a dead instance would): B waits out A's lease, then expires alone.
            _ = try await b.insert(F.request("Another short one"), response: F.answer("gone later"), model: "gpt-test", ttl: 3)
            #expect(try await Self.within(5) { a.size.entries == 1 } != nil)
            clock.advance(by: 5)
            #expect(try await b.maintain() == 0)
            #expect(!b.leadsUpkeep && b.size.entries == 1, "B took the upkeep while A's lease ran")
            clock.advance(by: 6)
            #expect(try await b.maintain() == 1)
            #expect(b.leadsUpkeep)
            #expect(try await Self.within(5) { a.size.entries == 0 } != nil)
        }
    }

    @Test("a dropped LISTEN connection is made again, and what came meanwhile is applied")
    func droppedListener() async throws {
        try await PostgresServer.with { server in
            let (a, storeA, followA) = try await Self.instance(server)
            let (b, storeB, followB) = try await Self.instance(server)
            defer { for t in [followA, followB] { t.cancel() }; for s in [storeA, storeB] { s.close() } }
            #expect(try await Self.within(5) { storeB.listens == 1 } != nil)
            // Every listening connection is cut, as a proxy or a failover would.
            let cut = try await server.sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
            #expect(cut.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(cut)")
            _ = try await a.insert(F.request("Inserted while B was deaf"), response: F.answer("caught up"), model: "gpt-test")
            #expect(try await Self.within(5) { storeB.listens == 2 } != nil, "B never listened again")
            #expect(try await Self.within(5) { try await b.lookup(F.request("Inserted while B was deaf")).hit != nil } != nil)
            // And changes keep arriving over the new connection.
            _ = try await a.insert(F.request("After the reconnection"), response: F.answer("prompt"), model: "gpt-test")
            #expect(try await Self.within(5) { try await b.lookup(F.request("After the reconnection")).hit != nil } != nil)
        }
    }

    @Test("a miss stored by one instance is a hit on the others; delete and purge reach them; tenants stay apart")
    func propagation() async throws {
        try await PostgresServer.with { server in
            let (a, storeA, followA) = try await Self.instance(server)
            let (b, storeB, followB) = try await Self.instance(server)
            let (c, storeC, followC) = try await Self.instance(server)
            defer { for t in [followA, followB, followC] { t.cancel() }; for s in [storeA, storeB, storeC] { s.close() } }

            let entry = try await a.insert(F.request("How do I reset my password?"), response: F.answer("reset"), model: "gpt-test")
            for other in [b, c] {
                let delay = try await Self.within(5) { try await other.lookup(F.request("How can I reset my password?")).hit != nil }
                #expect(delay != nil, "the other instance never saw the entry")
                let hit = try await other.lookup(F.request("how do I reset my password")).hit
                #expect(hit?.kind == .exact && hit?.response == F.answer("reset"))
            }
            // Another tenant's identical prompt is not served the entry, on any instance.
            #expect(try await b.lookup(F.request("How do I reset my password?", tenant: "globex")).hit == nil)

            // Deleted on B: gone from A and C.
            try await b.delete(key: entry.key)
            for other in [a, c] {
                #expect(try await Self.within(5) { try await other.lookup(F.request("How do I reset my password?")).hit == nil } != nil)
            }

            // Purged on C: gone everywhere.
            let kept = try await a.insert(F.request("What are your opening hours?"), response: F.answer("9-5"), model: "gpt-test")
            #expect(try await Self.within(5) { try await c.lookup(F.request("What are your opening hours?")).hit != nil } != nil)
            #expect(try await c.purge(namespace: kept.namespace.id) == 1)
            #expect(try await Self.within(5) { try await a.lookup(F.request("What are your opening hours?")).hit == nil } != nil)
            let emptied = try await Self.within(5) { a.size.entries == 0 && b.size.entries == 0 && c.size.entries == 0 }
                #expect(emptied != nil, "entries left: \(a.size.entries), \(b.size.entries), \(c.size.entries)")
        }
    }

    @Test("an instance away during 1,000 inserts catches up with all of them, none twice; a new one loads them")
    func catchUp() async throws {
        try await PostgresServer.with { server in
            let (a, storeA, followA) = try await Self.instance(server)
            let storeB = try await PostgresCacheStore(url: server.url)
            let b = try await SemanticCache.open(
                configuration: CacheConfiguration(verifier: VerifierSettings(enabled: false)), embedder: try HashingEmbedder(), store: storeB)
            defer { followA.cancel(); storeA.close(); storeB.close() }
            // B does not follow while A inserts.
            for i in 0..<1_000 {
                try await a.insert(F.request("Question number \(i) about the weather in town \(i % 37)"), response: F.answer("\(i)"), model: "gpt-test")
            }
            #expect(b.size.entries == 0)
            let read = try await b.followChanges(batch: 300)
            #expect(read == 1_000)
            #expect(b.size.entries == 1_000)
            #expect(try await b.followChanges() == 0)  // nothing twice
            #expect(b.size.entries == a.size.entries)
            #expect(try await b.lookup(F.request("Question number 512 about the weather in town 31")).hit?.response == F.answer("512"))
            // A new instance loads the table and follows from its end.
            let storeC = try await PostgresCacheStore(url: server.url)
            defer { storeC.close() }
            let c = try await SemanticCache.open(
                configuration: CacheConfiguration(verifier: VerifierSettings(enabled: false)), embedder: try HashingEmbedder(), store: storeC)
            #expect(c.size.entries == 1_000)
            #expect(try await c.followChanges() == 0)
        }
    }

    @Test("two instances inserting at once: a third follower gets every entry (change numbers commit in order)")
    func concurrentWriters() async throws {
        try await PostgresServer.with { server in
            let (a, storeA, followA) = try await Self.instance(server)
            let (b, storeB, followB) = try await Self.instance(server)
            let (c, storeC, followC) = try await Self.instance(server)
            defer { for t in [followA, followB, followC] { t.cancel() }; for s in [storeA, storeB, storeC] { s.close() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, cache) in [("a", a), ("b", b)] {
                    group.addTask {
                        for i in 0..<200 {
                            try await cache.insert(F.request("\(name) writes question \(i)"), response: F.answer("\(i)"), model: "gpt-test")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let all = try await Self.within(10) { c.size.entries == 400 && a.size.entries == 400 && b.size.entries == 400 }
            #expect(all != nil, "entries seen: \(a.size.entries), \(b.size.entries), \(c.size.entries)")
        }
    }

    @Test("PostgreSQL restarted: lookups go on from memory, writes fail as store failures, then work again without a restart of Deja")
    func serverRestart() async throws {
        try await PostgresServer.with { server in
            let (a, storeA, followA) = try await Self.instance(server)
            let (b, storeB, followB) = try await Self.instance(server)
            defer { followA.cancel(); followB.cancel(); storeA.close(); storeB.close() }
            try await a.insert(F.request("How do I reset my password?"), response: F.answer("reset"), model: "gpt-test")
            #expect(try await Self.within(5) { try await b.lookup(F.request("How do I reset my password?")).hit != nil } != nil)

            await server.stop()
            // A hit needs no database round trip... unless its answer is not in memory; B has it only
            // in the store, A in memory.
            #expect(try await a.lookup(F.request("How do I reset my password?")).hit != nil)
            await #expect(throws: CacheError.self) {
                try await a.insert(F.request("What are your opening hours?"), response: F.answer("9-5"), model: "gpt-test")
            }
            try await server.restart()
            let stored = try await Self.within(15) {
                (try? await a.insert(F.request("Where is my order?"), response: F.answer("here"), model: "gpt-test")) != nil
            }
            #expect(stored != nil, "writes did not come back after PostgreSQL restarted")
            #expect(try await Self.within(10) { try await b.lookup(F.request("Where is my order?")).hit != nil } != nil)
        }
    }

    @Test("counters, trust, metadata and vectors survive in PostgreSQL as in SQLite")
    func storeRoundTrip() async throws {
        try await PostgresServer.with { server in
            let store = try await PostgresCacheStore(url: server.url)
            defer { store.close() }
            try await store.setMetadata("embedder", "hashing-v1")
            #expect(try await store.metadata("embedder") == "hashing-v1")
            #expect(try await store.metadata("schema") == nil)  // the schema version is not an entry's metadata
            let ns = Namespace(id: Digest128(hex: "0123456789abcdef0123456789abcdef")!, label: "acme/gpt-test")
            let entry = try await store.insert(CacheEntry(
                namespace: ns, exactKey: Digest128(hex: "fedcba9876543210fedcba9876543210")!, prompt: "p", vector: [0.5, -1, 2],
                response: Data("r".utf8), model: "gpt-test", createdAt: Date(timeIntervalSince1970: 1_000), expiresAt: nil,
                promptTokens: 3, completionTokens: 4))
            #expect(try await store.vectors(keys: [entry.key]) == [entry.key: [0.5, -1, 2]])
            #expect(try await store.entry(key: entry.key)?.prompt == "p")
            var usage = UsageBatch()
            usage.hits[entry.key] = (2, Date(timeIntervalSince1970: 2_000))
            var counters = NamespaceCounters(namespace: ns.id, label: ns.label)
            counters.hits = 2
            counters.savedPromptTokens = 6
            usage.counters[ns.id] = counters
            try await store.recordUsage(usage)
            try await store.recordUsage(usage)
            #expect(try await store.summaries().first?.hitCount == 4)
            #expect(try await store.namespaceCounters().first?.hits == 4)
            try await store.setTrust(EntryTrust(minSimilarity: 0.9, wrongHits: 1), key: entry.key)
            #expect(try await store.summaries().first?.trust.wrongHits == 1)
            #expect(try await store.delete(keys: [entry.key, 999]) == [entry.key])
            #expect(try await store.changes(after: 0, limit: 10).map(\.kind) == [.insert, .delete])
        }
    }
}
