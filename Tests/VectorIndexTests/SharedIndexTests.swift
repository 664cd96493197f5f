import Dispatch
import Foundation
import Synchronization
import Testing
import TestSupport
import VectorIndex

@Suite("SharedIndex concurrency")
struct SharedIndexTests {
    /// Readers search while one writer inserts new keys and removes others. A search may or may
    /// not see a concurrent change, but it must only return keys that exist or existed, never a
    /// key removed before it started, and never crash or race (run under --sanitize=thread).
    @Test("concurrent searches during inserts and removals return only valid keys")
    func searchesDuringWrites() throws {
        let data = ClusteredDataset(count: 3_000, dimension: 16, queries: 64, clusters: 10, seed: 21)
        var base = try HNSWIndex(dimension: 16, configuration: .init(m: 8, efConstruction: 64))
        for i in 0..<1_000 { try base.insert(key: UInt64(i), vector: data.base(i)) }
        // Keys 0..<200 are removed before any search starts: no search may return them.
        for i in 0..<200 { base.remove(key: UInt64(i)) }
        let shared = SharedIndex(base)
        let done = Atomic<Bool>(false)
        let failures = Failures()
        let searches = Atomic<Int>(0)

        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 0 {
                // The writer: insert 1000..<3000, and remove 200..<400 along the way.
                for i in 1_000..<3_000 {
                    do { try shared.insert(key: UInt64(i), vector: data.base(i)) } catch {
                        failures.record("insert \(i): \(error)")
                    }
                    if i % 10 == 0 { shared.remove(key: UInt64(200 + (i - 1_000) / 10)) }
                }
                done.store(true, ordering: .releasing)
            } else {
                var q = worker
                while !done.load(ordering: .acquiring) || q < 64 * 4 {
                    do {
                        let hits = try shared.search(data.query(q % 64), k: 10, ef: 32)
                        for hit in hits where hit.key < 200 || hit.key >= 3_000 {
                            failures.record("search returned invalid key \(hit.key)")
                        }
                        if hits.isEmpty { failures.record("search returned nothing") }
                    } catch {
                        failures.record("search: \(error)")
                    }
                    searches.add(1, ordering: .relaxed)
                    q += 3
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(searches.load(ordering: .relaxed) > 0)
        #expect(shared.count == 2_800 - 200)
        // After the writes, removed keys are gone for good.
        for q in 0..<64 {
            let hits = try shared.search(data.query(q), k: 20, ef: 64)
            #expect(hits.allSatisfy { $0.key >= 400 })
        }
    }
}

extension SharedIndexTests {
    /// The bulk build writes links from several threads at once, each into the lists it owns;
    /// under --sanitize=thread this proves they do not overlap.
    @Test("a parallel bulk build and a compaction run without races")
    func parallelBuild() throws {
        let data = ClusteredDataset(count: 3_000, dimension: 16, queries: 0, clusters: 10, seed: 22)
        var index = try HNSWIndex(dimension: 16, configuration: .init(m: 8, efConstruction: 64))
        try index.insert(contentsOf: data.baseVectors, keys: (0..<3_000).map { UInt64($0) }, threads: 4)
        for key in stride(from: 0, to: 3_000, by: 3) { index.remove(key: UInt64(key)) }
        let compact = index.compacted(threads: 4)
        #expect(compact.count == 2_000)
        #expect(try compact.search(data.base(1), k: 1).first?.key == 1)
    }
}

/// Messages from several threads, behind an NSLock (pthread-based, so ThreadSanitizer sees it).
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func record(_ message: String) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }
}
