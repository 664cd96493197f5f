import Foundation
import SemanticCache
import Testing
import TestSupport

/// The store failing under a running cache, made real: a trigger in the SQLite file refuses
/// the writes the way a full disk does (`SQLITE_FULL`'s own message), then is dropped.
@Suite("SemanticCache with a failing store")
struct StoreFailureTests {
    typealias F = CacheFixture

    @Test("an insert the store refuses is a typed error that names the operation, and leaves nothing behind")
    func insertRefused() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        try SQLiteFault.refuseInserts(into: "entry", in: fixture.storePath)
        do {
            try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
            Issue.record("the insert should have failed")
        } catch {
            guard case .storeFailed(let operation, let location, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(operation == "inserting an entry")
            #expect(location == fixture.storePath)
            #expect(reason.contains("database or disk is full"))
        }
        #expect(cache.stats.entries == 0)
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit == nil)
        #expect(try await cache.search(text: "How do I reset my password?", k: 5).isEmpty)
        try SQLiteFault.acceptInserts(into: "entry", in: fixture.storePath)
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit != nil)
    }

    /// A full disk fails the hit counters' write first; expiry and eviction, which free space,
    /// must still run, and the counters must reach the file once it takes writes again.
    @Test("when the counters cannot be written the upkeep still expires entries, and the counters are kept for later")
    func upkeepGoesOn() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.ttl = 60
        var cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        let kept = try await cache.insert(
            F.request("What is the capital of France?"), response: F.answer("b"), model: "gpt-test", ttl: 3600).key
        #expect(try await cache.lookup(F.request("What is the capital of France?")).hit != nil)
        #expect(try await cache.lookup(F.request("What is the capital of France?")).hit != nil)
        try SQLiteFault.refuseInserts(into: "namespace_counter", in: fixture.storePath)
        fixture.clock.advance(by: 61)
        do {
            try await cache.maintain()
            Issue.record("the upkeep should have reported the failed write")
        } catch {
            guard case .storeFailed(let operation, _, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(operation == "recording usage")
        }
        #expect(cache.stats.entries == 1, "the expired entry is gone although the counters could not be written")
        #expect(try await cache.entry(key: kept) != nil)
        // Still failing: still kept, not lost and not counted twice.
        await #expect(throws: CacheError.self) { try await cache.maintain() }
        try SQLiteFault.acceptInserts(into: "namespace_counter", in: fixture.storePath)
        try await cache.maintain()
        try await cache.close()
        cache = try await fixture.open()
        #expect(try await cache.entry(key: kept)?.hitCount == 2)
        #expect(cache.stats.hits == 2)
    }

    @Test("closing with counters the store refuses still saves the index snapshot, then reports the failure")
    func closeSavesSnapshot() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        try await cache.insert(F.request("What is the capital of France?"), response: F.answer("b"), model: "gpt-test")
        #expect(try await cache.lookup(F.request("What is the capital of France?")).hit != nil)
        try SQLiteFault.refuseInserts(into: "namespace_counter", in: fixture.storePath)
        #expect(!FileManager.default.fileExists(atPath: fixture.indexPath))
        await #expect(throws: CacheError.self) { try await cache.close() }
        #expect(FileManager.default.fileExists(atPath: fixture.indexPath))
    }
}
