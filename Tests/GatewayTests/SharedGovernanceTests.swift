import DejaSupport
import Foundation
import Logging
@testable import Gateway
import MockProvider
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// Keys, rate limits and budgets of two gateways on one PostgreSQL governance store, over HTTP.
@Suite("Two gateways, one PostgreSQL governance store", .serialized)
struct SharedGovernanceTests {
    typealias H = GatewayHarness

    /// Two gateways with `auth: keys`, their governance in `url`, each its own cache file.
    static func pair(_ url: String, _ body: @Sendable (GatewayHarness, GatewayHarness) async throws -> Void) async throws {
        let configure: @Sendable (inout DejaConfiguration) -> Void = { c in
            // A loaded machine must not turn a forwarded request into a 504 the tests read as a refusal.
            H.patient(&c)
            c.server.auth = .keys
            c.governance.store = url
            // Far longer than the tests wait: keys reach the other gateway by notification only.
            c.governance.reloadInterval = 600
            c.governance.prices["gpt-test"] = ModelPrice(input: 1_000, output: 2_000)
        }
        try await H.run(configure: configure) { a in
            try await H.run(configure: configure) { b in try await body(a, b) }
        }
    }

    static func bearer(_ secret: String) -> [String: String] { ["authorization": "Bearer \(secret)"] }

    /// Waits until `h` has loaded `count` keys from the shared store.
    static func waitForKeys(_ h: GatewayHarness, _ count: Int) async throws {
        for _ in 0..<300 where h.governance.keyCount < count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(h.governance.keyCount == count, "the other gateway never loaded the key")
    }

    @Test("a key made on one gateway works on the other at once, and so does its revocation; a per-minute limit holds across both")
    func sharedKeyAndLimit() async throws {
        try await PostgresServer.with { server in
            try await Self.pair(server.url) { a, b in
                let made = try await a.post("/v1/admin/keys", ["tenant": "acme", "rpm": 10], headers: a.admin)
                #expect(made.status == 201, "\(made.text)")
                let secret = made.json["secret"]!.stringValue!
                try await Self.waitForKeys(b, 1)

                // Alternating between the gateways, as a load balancer would: 10 in all, not 10 each.
                var admitted = 0, refused = 0
                for i in 0..<24 {
                    let h = i % 2 == 0 ? a : b
                    let reply = try await h.chat("Limited question \(i)", headers: Self.bearer(secret))
                    if reply.status == 200 { admitted += 1 } else {
                        #expect(reply.status == 429)
                        #expect(reply.json["error"]?["code"]?.stringValue == "rate_limit_exceeded")
                        refused += 1
                    }
                }
                #expect(admitted <= 10, "the limit was exceeded across instances: \(admitted) admitted")
                // Leases another instance holds unused may refuse a little early: at most a lease each.
                #expect(admitted >= 8, "\(admitted) admitted of 10")
                #expect(a.mock.requests(to: "/v1/chat/completions") + b.mock.requests(to: "/v1/chat/completions") == admitted)

                // A revocation on B reaches A.
                let id = made.json["id"]!.stringValue!
                #expect(try await b.post("/v1/admin/keys/\(id)/revoke", [:], headers: b.admin).status == 200)
                var status = 0
                for _ in 0..<300 {
                    status = try await a.chat("After revocation", headers: Self.bearer(secret)).status
                    if status == 401 { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(status == 401)
            }
        }
    }

    @Test("a budget spent through one gateway is spent on the other")
    func sharedBudget() async throws {
        try await PostgresServer.with { server in
            try await Self.pair(server.url) { a, b in
                let tenant = try await a.post("/v1/admin/tenants", ["id": "acme", "budget_usd": 0.05, "budget_period": "day"], headers: a.admin)
                #expect(tenant.status == 201, "\(tenant.text)")
                let secret = try await a.post("/v1/admin/keys", ["tenant": "acme"], headers: a.admin).json["secret"]!.stringValue!
                try await Self.waitForKeys(b, 1)
                var n = 0
                var last = try await a.chat("Spend question \(n)", headers: Self.bearer(secret))
                while last.status == 200 {
                    n += 1
                    await a.settle()
                    #expect(n < 50)
                    if n >= 50 { return }
                    last = try await a.chat("Spend question \(n)", headers: Self.bearer(secret))
                }
                #expect(n >= 2)
                // A stopped because the budget was spent, not for any other failure.
                #expect(last.status == 429 && last.json["error"]?["code"]?.stringValue == "insufficient_quota", "\(last.text)")
                // B has spent nothing itself; it learns A's spending from the shared ledger.
                let first = try await b.chat("A question for B", headers: Self.bearer(secret))
                var status = first.status, tries = 1
                while status != 429 && tries < 300 {
                    try await Task.sleep(for: .milliseconds(10))
                    status = try await b.chat("A question for B \(tries)", headers: Self.bearer(secret)).status
                    tries += 1
                }
                #expect(status == 429)
                // Within a flush or two (50 ms each here), not after spending a budget of its own.
                #expect(tries <= 3, "B answered \(tries) requests before it saw A's spending")
                // The view reads the shared ledger, which the last rows of A (and of B's own
                // answers) reach at their gateway's next flush: B may refuse first, counting rows
                // it has not written yet, so wait a few flushes, and no more.
                var view = try await b.request(.GET, "/v1/admin/tenants/acme", headers: b.admin)
                for _ in 0..<100 where (view.json["spent_day"]?.doubleValue ?? 0) < 0.05 {
                    await a.settle()
                    await b.settle()
                    try await Task.sleep(for: .milliseconds(20))
                    view = try await b.request(.GET, "/v1/admin/tenants/acme", headers: b.admin)
                }
                #expect((view.json["spent_day"]?.doubleValue ?? 0) >= 0.05, "\(view.text)")
                // The ledger is one: B's usage report counts A's requests.
                await b.settle()
                let usage = try await b.request(.GET, "/v1/admin/usage?by=tenant&since=1h", headers: b.admin)
                let requests = usage.json["data"]?.arrayValue?.first { $0["group"]?.stringValue == "acme" }?["requests"]?.intValue ?? 0
                #expect(requests >= Int64(n), "\(usage.text)")
            }
        }
    }

    @Test("the ledger in PostgreSQL: a flush of 12,000 rows in batches, written once when repeated, absent fields NULL, spend summed by day")
    func ledgerRoundTrip() async throws {
        try await PostgresServer.with { server in
            let store = try await PostgresGovernanceStore(url: server.url, password: nil, logger: Logger(label: "deja.test"))
            let now = 1_800_000_000.0
            var rows: [UsageRecord] = []
            for i in 0..<12_000 {
                var r = UsageRecord(
                    at: now + Double(i) * 0.001, requestID: "req_\(i)", keyID: i % 2 == 0 ? "key_a" : nil, tenant: i % 2 == 0 ? "acme" : "",
                    route: "/v1/chat/completions", status: 200, latencyMs: 1)
                r.model = i % 3 == 0 ? nil : "gpt-test"
                r.cost = 0.001
                r.cache = i % 4 == 0 ? "hit" : nil
                r.similarity = i % 4 == 0 ? 1 : nil
                rows.append(r)
            }
            let batch = UUID()
            try await store.append(rows, batch: batch)
            // The same flush again (its first answer lost to a timeout after the commit): nothing more.
            try await store.append(rows, batch: batch)
            let byModel = try await store.usage(UsageQuery(by: .model, since: now - 1))
            #expect(byModel.first { $0.group == "-" }?.requests == 4_000, "\(byModel)")
            #expect(byModel.first { $0.group == "gpt-test" }?.requests == 8_000)
            let byKey = try await store.usage(UsageQuery(by: .key, since: now - 1))
            #expect(byKey.first { $0.group == "-" }?.requests == 6_000)
            #expect(try await store.usage(UsageQuery(since: now - 1)).first?.exactHits == 3_000)
            let dayStart = BudgetPeriod.day.bounds(of: Date(timeIntervalSince1970: now)).start
            let spend = try await store.spend(since: dayStart)
            #expect(abs((spend.byKey["key_a"] ?? 0) - 6) < 1e-6, "\(spend)")
            #expect(abs((spend.byTenant["acme"] ?? 0) - 6) < 1e-6)
            #expect(spend.byTenant.count == 1 && spend.byKey.count == 1, "no spend under an empty key or tenant")
        }
    }
}
