import Foundation
import Logging
@testable import Gateway
import SemanticCache
import Testing

/// The arithmetic of limits and budgets, with a clock the test sets.
@Suite("Quotas")
struct QuotasTests {
    static func grant(key: Limits = Limits(), tenant: Limits = Limits(), id: String = "key_1") -> Grant {
        Grant(
            key: VirtualKey(id: id, tenant: "acme", name: "", digest: "", limits: key, createdAt: Date(timeIntervalSince1970: 0)),
            tenant: Tenant(id: "acme", limits: tenant, createdAt: Date(timeIntervalSince1970: 0)))
    }

    @Test("a tenant's request limit is shared by its keys; neither is charged when one refuses")
    func tenantShared() throws {
        let quotas = Quotas()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let a = Self.grant(key: Limits(rpm: 10), tenant: Limits(rpm: 3), id: "key_a")
        let b = Self.grant(key: Limits(rpm: 10), tenant: Limits(rpm: 3), id: "key_b")
        try quotas.admitRequest(a, now: now)
        try quotas.admitRequest(b, now: now)
        try quotas.admitRequest(a, now: now)
        #expect(throws: Quotas.Refusal.self) { try quotas.admitRequest(b, now: now) }
        // The refusal by the tenant did not take from key b's own allowance.
        #expect(quotas.holder("k:key_b")?.requests?.level == 9)
        #expect(quotas.holder("t:acme")?.inFlight == 3)
        quotas.release(a)
        #expect(quotas.holder("t:acme")?.inFlight == 2)
    }

    @Test("requests in flight are capped and given back")
    func concurrency() throws {
        let quotas = Quotas()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let g = Self.grant(key: Limits(maxConcurrent: 2))
        try quotas.admitRequest(g, now: now)
        try quotas.admitRequest(g, now: now)
        #expect(throws: Quotas.Refusal.concurrency(holder: "key_1", limit: 2)) { try quotas.admitRequest(g, now: now) }
        quotas.release(g)
        try quotas.admitRequest(g, now: now)
    }

    @Test("an estimate larger than a minute's tokens passes on a full bucket and leaves debt")
    func largeEstimate() throws {
        let quotas = Quotas()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let g = Self.grant(key: Limits(tpm: 600))
        try quotas.admitTokens(g, estimate: 900, now: now)
        #expect(quotas.holder("k:key_1")?.tokens?.level == -300)
        // 600 per minute is 10 a second: 30 s pays the debt, then the next needs its own.
        #expect(throws: Quotas.Refusal.self) { try quotas.admitTokens(g, estimate: 10, now: now.addingTimeInterval(30)) }
        try quotas.admitTokens(g, estimate: 10, now: now.addingTimeInterval(31))
    }

    @Test("spend starts from the ledger and rolls over at the UTC day and month")
    func spendPeriods() throws {
        let quotas = Quotas()
        // 2027-01-31 23:00 UTC.
        let now = Date(timeIntervalSince1970: 1_801_436_400)
        let g = Self.grant(key: Limits(budgetUSD: 1, budgetPeriod: .month))
        quotas.load(day: [:], month: ["k:key_1": 1.5], now: now)
        #expect(throws: Quotas.Refusal.budget(
            holder: "key_1", budget: 1, period: .month, resets: Date(timeIntervalSince1970: 1_801_440_000))) {
            try quotas.admitTokens(g, estimate: 1, now: now)
        }
        try quotas.admitTokens(g, estimate: 1, now: now.addingTimeInterval(3_600))
        quotas.settle(g, reserved: 1, used: 1, cost: 0.25, now: now.addingTimeInterval(3_600))
        #expect(quotas.holder("k:key_1")?.spend.month == 0.25)
        #expect(quotas.holder("k:key_1")?.spend.day == 0.25)
    }

    @Test("reset durations are written as OpenAI writes them")
    func durations() {
        #expect(Quotas.duration(0.12) == "120ms")
        #expect(Quotas.duration(1.5) == "1.5s")
        #expect(Quotas.duration(20) == "20s")
        #expect(Quotas.duration(360) == "6m0s")
        #expect(Quotas.duration(61.2) == "1m2s")
    }

    @Test("prices: exact names, dated names by their longest listed prefix, cached input")
    func prices() {
        var config = GovernanceConfiguration()
        config.prices["my-model"] = ModelPrice(input: 1, output: 3)
        let table = try! PriceTable(configuration: config, logger: .init(label: "test"))
        #expect(table.cost(model: "my-model", prompt: 1_000_000, cached: 0, completion: 1_000_000) == 4)
        let mini = table.price(of: "gpt-4o-mini-2024-07-18")
        #expect(mini == DefaultPrices.table["gpt-4o-mini"])
        #expect(table.price(of: "gpt-4o-2024-08-06") == DefaultPrices.table["gpt-4o"])
        #expect(table.cost(model: "unknown-model", prompt: 10, cached: 0, completion: 10) == 0)
        let price = ModelPrice(input: 2, cachedInput: 0.5, output: 8)
        #expect(price.cost(prompt: 1_000_000, cached: 500_000, completion: 0) == 1.25)
    }
}
