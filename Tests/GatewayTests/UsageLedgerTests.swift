import Foundation
@testable import Gateway
import GRDB
import SemanticCache
import Testing
import TestSupport

/// The ledger's queue in front of its store: bounded when the store is slow or failing, nothing
/// lost when it recovers, rows kept across a reopening.
@Suite("Usage ledger")
struct UsageLedgerTests {
    /// A store that fails while `failing` is set; with `commitsBeforeFailing`, it writes the rows
    /// first (a commit whose answer was lost).
    final class FlakyStore: GovernanceStore, @unchecked Sendable {
        let inner: SQLiteGovernanceStore
        var failing = true
        var commitsBeforeFailing = false
        /// Run inside each write, as requests arriving while a flush is under way.
        var duringAppend: (() -> Void)?
        /// Awaited inside each write, to hold a flush there while another runs.
        var gate: (() async -> Void)?
        var location: String { inner.location }
        init(_ inner: SQLiteGovernanceStore) { self.inner = inner }
        func tenants() async throws -> [Tenant] { try await inner.tenants() }
        func save(_ tenant: Tenant) async throws { try await inner.save(tenant) }
        func deleteTenant(_ id: String) async throws -> Bool { try await inner.deleteTenant(id) }
        func keys() async throws -> [VirtualKey] { try await inner.keys() }
        func save(_ key: VirtualKey) async throws { try await inner.save(key) }
        func append(_ rows: [UsageRecord], batch: UUID) async throws {
            duringAppend?()
            if let gate { await gate() }
            if failing {
                if commitsBeforeFailing { try await inner.append(rows, batch: batch) }
                throw GovernanceError.store("no answer within 5.0 seconds")
            }
            try await inner.append(rows, batch: batch)
        }
        func usage(_ query: UsageQuery) async throws -> [UsageSummary] { try await inner.usage(query) }
        func spend(since date: Date) async throws -> (byKey: [String: Double], byTenant: [String: Double]) {
            try await inner.spend(since: date)
        }
        func deleteUsage(before date: Date) async throws -> Int { try await inner.deleteUsage(before: date) }
    }

    /// A ledger holding at most `maxPending` rows over a failing `FlakyStore`, in a directory of
    /// its own that the caller removes.
    static func flakyLedger(maxPending: Int) throws -> (TemporaryDirectory, FlakyStore, UsageLedger) {
        let dir = try TemporaryDirectory("deja-ledger")
        let store = FlakyStore(try SQLiteGovernanceStore(path: dir.path("g.sqlite")))
        return (dir, store, UsageLedger(store: store, maxPending: maxPending))
    }

    static func row(_ i: Int, cost: Double = 0.01) -> UsageRecord {
        var r = UsageRecord(
            at: 1_800_000_000 + Double(i), requestID: "req_\(i)", keyID: "key_a", tenant: "acme", route: "/v1/chat/completions",
            status: 200, latencyMs: 1)
        r.cost = cost
        r.promptTokens = 3
        r.cache = i % 2 == 0 ? "miss" : "hit"
        return r
    }

    @Test("a failing store holds at most max_pending rows, counts the rest as dropped, and gets the held ones on recovery")
    func boundedWhileFailing() async throws {
        let (dir, store, ledger) = try Self.flakyLedger(maxPending: 1_000)
        defer { dir.remove() }
        for i in 0..<1_500 { ledger.append(Self.row(i)) }
        #expect(ledger.counts.pending == 1_000 && ledger.counts.dropped == 500)
        await #expect(throws: GovernanceError.self) { try await ledger.flush() }
        #expect(ledger.counts.pending == 1_000, "a failed write keeps its rows")
        for i in 1_500..<1_600 { ledger.append(Self.row(i)) }
        #expect(ledger.counts.pending == 1_000 && ledger.counts.dropped == 600)
        store.failing = false
        #expect(try await ledger.flush() == 1_000)
        let total = try await store.usage(UsageQuery(since: 0))
        #expect(total.first?.requests == 1_000)
        #expect(total.first?.exactHits == 500)
        #expect(abs((total.first?.cost ?? 0) - 10) < 1e-9)
    }

    @Test("a flush that committed but failed to say so is not written twice: its retry keeps its batch id")
    func lostAnswerNotCountedTwice() async throws {
        let (dir, store, ledger) = try Self.flakyLedger(maxPending: 1_000)
        defer { dir.remove() }
        store.commitsBeforeFailing = true
        for i in 0..<10 { ledger.append(Self.row(i)) }
        await #expect(throws: GovernanceError.self) { try await ledger.flush() }
        #expect(ledger.counts.pending == 10, "not confirmed, so still waiting")
        for i in 10..<15 { ledger.append(Self.row(i)) }
        store.failing = false
        #expect(try await ledger.flush() == 15)
        #expect(ledger.counts.pending == 0 && ledger.counts.written == 15)
        let total = try await store.usage(UsageQuery(since: 0))
        #expect(total.first?.requests == 15, "the first ten once, not twice")
        let spend = try await store.spend(since: Date(timeIntervalSince1970: 0))
        #expect(abs((spend.byKey["key_a"] ?? 0) - 0.15) < 1e-9)
        #expect(try await ledger.flush() == 0)
    }

    @Test("rows of a flush under way count towards max_pending, and stay bounded when it fails")
    func boundedDuringFlight() async throws {
        let (dir, store, ledger) = try Self.flakyLedger(maxPending: 100)
        defer { dir.remove() }
        for i in 0..<60 { ledger.append(Self.row(i)) }
        store.duringAppend = { for i in 60..<160 { ledger.append(Self.row(i)) } }
        await #expect(throws: GovernanceError.self) { try await ledger.flush() }
        #expect(ledger.counts.pending == 100, "60 unconfirmed and 40 of the 100 that came meanwhile")
        #expect(ledger.counts.dropped == 60)
        store.duringAppend = nil
        store.failing = false
        #expect(try await ledger.flush() == 100)
        #expect(try await store.usage(UsageQuery(since: 0)).first?.requests == 100)
    }

    @Test("two flushes failing at once both keep their rows, and each row is written once on recovery")
    func overlappingFailedFlushes() async throws {
        let (dir, store, ledger) = try Self.flakyLedger(maxPending: 1_000)
        defer { dir.remove() }
        // The first flush waits inside its write until the second has failed.
        let (released, release) = AsyncStream<Void>.makeStream()
        let (entered, enter) = AsyncStream<Void>.makeStream()
        store.gate = {
            store.gate = nil
            enter.yield()
            for await _ in released { break }
        }
        for i in 0..<10 { ledger.append(Self.row(i)) }
        let first = Task { try await ledger.flush() }
        for await _ in entered { break }
        for i in 10..<15 { ledger.append(Self.row(i)) }
        await #expect(throws: GovernanceError.self) { try await ledger.flush() }
        release.yield()
        await #expect(throws: GovernanceError.self) { try await first.value }
        #expect(ledger.counts.pending == 15, "both failed flushes' rows are kept")
        store.failing = false
        #expect(try await ledger.flush() == 15)
        #expect(try await store.usage(UsageQuery(since: 0)).first?.requests == 15)
    }

    @Test("rows, spend and retention survive reopening the store")
    func reopen() async throws {
        let dir = try TemporaryDirectory("deja-ledger")
        defer { dir.remove() }
        do {
            let store = try SQLiteGovernanceStore(path: dir.path("g.sqlite"))
            let ledger = UsageLedger(store: store, maxPending: 1_000)
            for i in 0..<10 { ledger.append(Self.row(i)) }
            try await ledger.flush()
        }
        let store = try SQLiteGovernanceStore(path: dir.path("g.sqlite"))
        let spend = try await store.spend(since: Date(timeIntervalSince1970: 1_800_000_005))
        #expect(abs((spend.byKey["key_a"] ?? 0) - 0.05) < 1e-9)
        #expect(abs((spend.byTenant["acme"] ?? 0) - 0.05) < 1e-9)
        let byDay = try await store.usage(UsageQuery(by: .day, since: 0))
        #expect(byDay.map(\.group) == ["2027-01-15"])
        #expect(try await store.deleteUsage(before: Date(timeIntervalSince1970: 1_800_000_005)) == 5)
        #expect(try await store.usage(UsageQuery(since: 0)).first?.requests == 5)
    }

    @Test("the SQLite store writes every column of a row as given: nulls, empty text, text holding NUL, fractions")
    func everyColumn() async throws {
        let dir = try TemporaryDirectory("deja-ledger")
        defer { dir.remove() }
        let store = try SQLiteGovernanceStore(path: dir.path("g.sqlite"))
        var full = UsageRecord(
            at: 1_800_000_000.25, requestID: "req_\u{0}1", keyID: "key_é", tenant: "", route: "/v1/messages",
            status: 429, latencyMs: 12.5)
        (full.model, full.upstreamModel, full.provider, full.firstTokenMs) = ("gpt-4o", "gpt-4o-2024", "openai", 3.75)
        (full.promptTokens, full.cachedTokens, full.completionTokens, full.cost) = (11, 2, 7, 0.000125)
        (full.savedPromptTokens, full.savedCompletionTokens, full.savedCost) = (5, 6, 0.5)
        (full.cache, full.similarity) = ("semantic-hit", 0.875)
        let bare = UsageRecord(at: 1, requestID: "req_2", keyID: nil, tenant: "acme", route: "/v1/chat/completions",
                               status: 200, latencyMs: 0)
        try await store.append([full, bare], batch: UUID())
        let rows = try DatabaseQueue(path: dir.path("g.sqlite")).read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, request_id, key_id, tenant, route, model, upstream_model, provider, status, latency_ms,
                    first_token_ms, prompt_tokens, cached_tokens, completion_tokens, cost, saved_prompt_tokens,
                    saved_completion_tokens, saved_cost, cache, similarity, hex(request_id)
                FROM usage ORDER BY at DESC
                """)
        }
        try #require(rows.count == 2)
        let f = rows[0]
        #expect(f[0] as Double == 1_800_000_000.25)
        // GRDB reads text up to a NUL; SQLite holds all of it.
        #expect(f[20] as String == "7265715F0031", "request_id's bytes")
        #expect(f[2] as String? == "key_é")
        #expect(f[3] as String == "" && f[4] as String == "/v1/messages")
        #expect(f[5] as String? == "gpt-4o" && f[6] as String? == "gpt-4o-2024" && f[7] as String? == "openai")
        #expect(f[8] as Int == 429 && f[9] as Double == 12.5 && f[10] as Double? == 3.75)
        #expect(f[11] as Int == 11 && f[12] as Int == 2 && f[13] as Int == 7 && f[14] as Double == 0.000125)
        #expect(f[15] as Int == 5 && f[16] as Int == 6 && f[17] as Double == 0.5)
        #expect(f[18] as String? == "semantic-hit" && f[19] as Double? == 0.875)
        let b = rows[1]
        #expect(b[1] as String == "req_2" && b[3] as String == "acme")
        for column in [2, 5, 6, 7, 10, 18, 19] {
            #expect(b.hasNull(atIndex: column), "column \(column) of a row without it should be NULL")
        }
        // Read through the store's own query too.
        let summary = try await store.usage(UsageQuery(since: 0)).first
        #expect(summary?.requests == 2 && summary?.semanticHits == 1 && summary?.refused == 1)
    }
}
