import DejaSupport
import Foundation
import Logging
import MockProvider
import NIOHTTP1
@testable import Gateway
import SemanticCache
import Testing
import TestSupport

/// Keys, tenants, limits, budgets and the ledger through a real gateway with `server.auth: keys`,
/// its clock under the test's control.
@Suite("Governance: keys, limits, budgets, ledger")
struct GovernanceTests {
    typealias H = GatewayHarness

    /// A gateway with `auth: keys` and a price for the mock's model.
    static func run(
        clock: ManualClock = ManualClock(), configure: @escaping @Sendable (inout DejaConfiguration) -> Void = { _ in },
        logger: Logger? = nil, _ body: @Sendable (GatewayHarness, ManualClock) async throws -> Void
    ) async throws {
        try await H.run(configure: { c in
            c.server.auth = .keys
            c.governance.prices["gpt-test"] = ModelPrice(input: 1_000, output: 2_000)
            configure(&c)
        }, logger: logger, clock: clock) { h in try await body(h, clock) }
    }

    /// A key made through the admin API: its id and secret.
    static func key(_ h: GatewayHarness, tenant: String, _ fields: [String: JSONValue] = [:]) async throws -> (id: String, secret: String) {
        var body = fields
        body["tenant"] = .string(tenant)
        let reply = try await h.post("/v1/admin/keys", .object(body), headers: h.admin)
        #expect(reply.status == 201, "\(reply.text)")
        return (reply.json["id"]!.stringValue!, reply.json["secret"]!.stringValue!)
    }

    static func bearer(_ secret: String) -> [String: String] { ["authorization": "Bearer \(secret)"] }

    @Test("a key is made once, works, and is refused when missing, wrong, revoked or used on admin routes")
    func keyLifecycle() async throws {
        try await Self.run { h, _ in
            let (id, secret) = try await Self.key(h, tenant: "acme")
            #expect(secret.hasPrefix("dj-") && secret.count == 46)
            #expect(id.hasPrefix("key_"))
            let shown = try await h.request(.GET, "/v1/admin/keys/\(id)", headers: h.admin)
            #expect(shown.json["secret"] == nil && shown.json["status"]?.stringValue == "active")
            #expect(!shown.text.contains(secret))

            let ok = try await h.chat("What is a token bucket?", headers: Self.bearer(secret))
            #expect(ok.status == 200)
            let viaAPIKey = try await h.chat("What is a token bucket?", headers: ["x-api-key": secret])
            #expect(viaAPIKey.status == 200)

            for headers in [[:], Self.bearer("dj-wrong"), Self.bearer(H.adminKey)] {
                let refused = try await h.chat("What is a token bucket?", headers: headers)
                #expect(refused.status == 401)
                #expect(refused.json["error"]?["code"]?.stringValue == "invalid_api_key")
            }
            // A Deja key is not an admin key.
            let adminWithKey = try await h.request(.GET, "/v1/admin/keys", headers: Self.bearer(secret))
            #expect(adminWithKey.status == 401)
            let cacheWithKey = try await h.request(.GET, "/v1/cache/stats", headers: Self.bearer(secret))
            #expect(cacheWithKey.status == 401)

            let revoked = try await h.post("/v1/admin/keys/\(id)/revoke", [:], headers: h.admin)
            #expect(revoked.json["status"]?.stringValue == "revoked")
            let after = try await h.chat("What is a token bucket?", headers: Self.bearer(secret))
            #expect(after.status == 401)
            #expect(after.json["error"]?["message"]?.stringValue?.contains("revoked") == true)
            // The provider never saw a Deja key.
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)
        }
    }

    @Test("rotation keeps the old key for its grace; expiry refuses a key once its time has come")
    func rotationAndExpiry() async throws {
        try await Self.run { h, clock in
            let (id, old) = try await Self.key(h, tenant: "acme", ["expires_in": 86_400])
            let rotated = try await h.post("/v1/admin/keys/\(id)/rotate", ["grace_seconds": 600], headers: h.admin)
            #expect(rotated.status == 201)
            let new = rotated.json["secret"]!.stringValue!
            #expect(try await h.chat("Rotate me", headers: Self.bearer(old)).status == 200)
            #expect(try await h.chat("Rotate me", headers: Self.bearer(new)).status == 200)
            let listed = try await h.request(.GET, "/v1/admin/keys/\(id)", headers: h.admin)
            #expect(listed.json["status"]?.stringValue == "rotating")

            clock.advance(by: 601)
            let late = try await h.chat("Rotate me", headers: Self.bearer(old))
            #expect(late.status == 401)
            #expect(late.json["error"]?["message"]?.stringValue?.contains("expired") == true)
            #expect(try await h.chat("Rotate me", headers: Self.bearer(new)).status == 200)

            // The new key inherited the old one's day of life.
            clock.advance(by: 86_400)
            #expect(try await h.chat("Rotate me", headers: Self.bearer(new)).status == 401)
        }
    }

    @Test("a model outside the key's or the tenant's globs is 403 model_not_allowed")
    func modelsAllowed() async throws {
        try await Self.run { h, _ in
            let (_, secret) = try await Self.key(h, tenant: "acme", ["models": ["gpt-*"]])
            #expect(try await h.chat("Which model?", model: "gpt-test", headers: Self.bearer(secret)).status == 200)
            let refused = try await h.chat("Which model?", model: "claude-test", headers: Self.bearer(secret))
            #expect(refused.status == 403)
            #expect(refused.json["error"]?["code"]?.stringValue == "model_not_allowed")
            // The tenant's own list narrows every key's.
            _ = try await h.request(.PATCH, "/v1/admin/tenants/acme", body: Data(#"{"models": ["gpt-4o*"]}"#.utf8), headers: h.admin)
            #expect(try await h.chat("Which model?", model: "gpt-test", headers: Self.bearer(secret)).status == 403)
            #expect(try await h.chat("Which model?", model: "gpt-4o-mini", headers: Self.bearer(secret)).status == 200)
        }
    }

    @Test("two tenants never share answers; tenants that name one scope do")
    func tenantIsolation() async throws {
        try await Self.run { h, _ in
            let a = try await Self.key(h, tenant: "alpha").secret
            let b = try await Self.key(h, tenant: "beta").secret
            let c = try await Self.key(h, tenant: "gamma", ["cache_scope": "shared"]).secret
            let d = try await Self.key(h, tenant: "delta", ["cache_scope": "shared"]).secret
            let prompt = "What is our refund policy?"
            #expect(try await h.chat(prompt, headers: Self.bearer(a)).cache == "miss")
            await h.settle()
            #expect(try await h.chat(prompt, headers: Self.bearer(a)).cache == "hit")
            #expect(try await h.chat(prompt, headers: Self.bearer(b)).cache == "miss")
            #expect(try await h.chat(prompt, headers: Self.bearer(c)).cache == "miss")
            await h.settle()
            #expect(try await h.chat(prompt, headers: Self.bearer(d)).cache == "hit")
        }
    }

    @Test("requests per minute: the exact 429 boundary, its headers, and the refill")
    func requestLimit() async throws {
        try await Self.run { h, clock in
            let (id, secret) = try await Self.key(h, tenant: "acme", ["rpm": 3])
            for remaining in [2, 1, 0] {
                let reply = try await h.chat("Count me", headers: Self.bearer(secret))
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "x-ratelimit-limit-requests") == "3")
                #expect(reply.headers.first(name: "x-ratelimit-remaining-requests") == String(remaining))
                await h.settle()
            }
            let refused = try await h.chat("Count me", headers: Self.bearer(secret))
            #expect(refused.status == 429)
            #expect(refused.json["error"]?["code"]?.stringValue == "rate_limit_exceeded")
            #expect(refused.headers.first(name: "retry-after") == "20")
            #expect(refused.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            #expect(refused.headers.first(name: "x-ratelimit-reset-requests") == "1m0s")
            #expect(refused.json["error"]?["message"]?.stringValue?.contains(id) == true)
            clock.advance(by: 19.9)
            #expect(try await h.chat("Count me", headers: Self.bearer(secret)).status == 429)
            clock.advance(by: 0.1)
            #expect(try await h.chat("Count me", headers: Self.bearer(secret)).status == 200)
            #expect(try await h.chat("Count me", headers: Self.bearer(secret)).status == 429)
        }
    }

    @Test("tokens per minute: admitted on the estimate, settled from usage; a hit spends none")
    func tokenLimit() async throws {
        try await Self.run(configure: { $0.governance.defaultMaxTokens = 1 }) { h, _ in
            let (id, secret) = try await Self.key(h, tenant: "acme", ["tpm": 1_000])
            let prompt = "Explain settlement of token estimates"
            let miss = try await h.chat(prompt, headers: Self.bearer(secret))
            #expect(miss.status == 200)
            let used = miss.json["usage"]!["total_tokens"]!.intValue!
            let estimate = OpenAIWire.estimatedTokens(prompt) + 1
            #expect(Int(used) > estimate, "the answer is larger than its estimate")
            // Admitted on the estimate: the header of the answer says so.
            #expect(miss.headers.first(name: "x-ratelimit-remaining-tokens") == String(1_000 - estimate))
            await h.settle()
            let level = h.governance.quotas.holder("k:" + id)?.tokens?.level ?? -1
            #expect(abs(level - Double(1_000 - Int(used))) < 1, "settled to what the provider reported")

            let hit = try await h.chat(prompt, headers: Self.bearer(secret))
            #expect(hit.cache == "hit")
            await h.settle()
            let afterHit = h.governance.quotas.holder("k:" + id)?.tokens?.level ?? -1
            #expect(abs(afterHit - level) < 1, "a hit spends no tokens")
            #expect(h.governance.quotas.holder("k:" + id)?.requests == nil, "no request limit was set")

            // A request that cannot fit what is left is refused before the provider sees it.
            let big = try await h.chat("Another question", extra: ["max_tokens": 5_000], headers: Self.bearer(secret))
            #expect(big.status == 429)
            #expect(big.json["error"]?["type"]?.stringValue == "tokens")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 1)
        }
    }

    @Test("a spent budget is 429 insufficient_quota until the period ends; a tenant budget caps its keys together")
    func budgets() async throws {
        // The mock's answers cost a few cents at these prices: 1 prompt token 0.001 $, 1 completion token 0.002 $.
        try await Self.run { h, clock in
            _ = try await h.post("/v1/admin/tenants", ["id": "acme", "budget_usd": 0.05, "budget_period": "day"], headers: h.admin)
            let one = try await Self.key(h, tenant: "acme").secret
            let two = try await Self.key(h, tenant: "acme").secret
            var spent = 0
            var n = 0
            while true {
                let reply = try await h.chat("Question number \(n)", headers: Self.bearer(n % 2 == 0 ? one : two))
                n += 1
                await h.settle()
                if reply.status == 429 {
                    #expect(reply.json["error"]?["code"]?.stringValue == "insufficient_quota")
                    #expect(reply.json["error"]?["message"]?.stringValue?.contains("acme") == true)
                    #expect(reply.headers.first(name: "x-should-retry") == "false")
                    break
                }
                #expect(reply.status == 200)
                spent += 1
                #expect(n < 50)
            }
            #expect(spent >= 2, "both keys spent from the one budget")
            let tenant = try await h.request(.GET, "/v1/admin/tenants/acme", headers: h.admin)
            #expect((tenant.json["spent_day"]?.doubleValue ?? 0) >= 0.05, "the tenant shows what it spent against its budget")
            // Hits still answer: they cost nothing.
            #expect(try await h.chat("Question number 0", headers: Self.bearer(two)).cache == "hit")
            #expect(try await h.chat("A new one", headers: Self.bearer(two)).status == 429)
            // The next UTC day resets it.
            let tomorrow = BudgetPeriod.day.bounds(of: clock.now()).end
            clock.advance(by: tomorrow.timeIntervalSince(clock.now()))
            #expect(try await h.chat("A new one", headers: Self.bearer(two)).status == 200)
        }
    }

    @Test("the ledger has a row per request with its tokens, cost and savings, and no secret")
    func ledgerRows() async throws {
        let log = LogCapture()
        try await Self.run(logger: log.logger) { h, _ in
            let (id, secret) = try await Self.key(h, tenant: "acme", ["rpm": 4])
            let first = try await h.chat("How do I reset my password?", headers: Self.bearer(secret))
            await h.settle()
            let hit = try await h.chat("How do I reset my password?", headers: Self.bearer(secret))
            let semantic = try await h.chat("How can I reset my password?", headers: Self.bearer(secret))
            let stream = try await h.chat("Tell me a story", stream: true, headers: Self.bearer(secret))
            let refused = try await h.chat("One too many", headers: Self.bearer(secret))
            _ = try await h.chat("No key")
            #expect([first.status, hit.status, semantic.status, stream.status, refused.status] as [Int] == [200, 200, 200, 200, 429])
            #expect(semantic.cache == "semantic-hit")
            // The usage Deja asked for on the client's behalf is not in the client's stream.
            #expect(!stream.text.contains("\"usage\":{"))
            await h.settle()

            let byKey = try await h.request(.GET, "/v1/admin/usage?by=key&since=1d", headers: h.admin)
            let rows = byKey.json["data"]!.arrayValue!
            let mine = rows.first { $0["group"]?.stringValue == id }!
            #expect(mine["requests"]?.intValue == 5)
            #expect(mine["exact_hits"]?.intValue == 1 && mine["semantic_hits"]?.intValue == 1 && mine["refused"]?.intValue == 1)
            let firstUsage = first.json["usage"]!
            let p = firstUsage["prompt_tokens"]!.intValue!, c = firstUsage["completion_tokens"]!.intValue!
            // Prompt tokens: the miss's and the stream's as the provider counted them (the mock: one a
            // word, 4 for "Tell me a story"; an estimate would say 5): Deja asked for the stream's
            // usage upstream.
            #expect(mine["prompt_tokens"]!.intValue! == p + 4)
            let savedExact = mine["saved_cost_exact"]!.doubleValue!
            #expect(abs(savedExact - (Double(p) * 1_000 + Double(c) * 2_000) / 1e6) < 1e-9)
            #expect(mine["saved_tokens_semantic"]?.intValue == p + c)
            let total = mine["cost"]!.doubleValue!
            let expected = (Double(mine["prompt_tokens"]!.intValue!) * 1_000 + Double(mine["completion_tokens"]!.intValue!) * 2_000) / 1e6
            #expect(abs(total - expected) < 1e-9)
            #expect(rows.contains { $0["group"]?.stringValue == "-" && $0["errors"]?.intValue == 1 }, "the keyless 401")

            // Nothing secret in the ledger file or the log.
            let file = try Data(contentsOf: URL(fileURLWithPath: h.governance.store.location))
            let wal = (try? Data(contentsOf: URL(fileURLWithPath: h.governance.store.location + "-wal"))) ?? Data()
            #expect(file.range(of: Data(secret.utf8)) == nil && wal.range(of: Data(secret.utf8)) == nil)
            #expect(!log.messages.contains { $0.contains(secret) })
            #expect(log.messages.contains { $0.contains("key=\(id) tenant=acme") })
        }
    }

    @Test("the admin API refuses unknown fields and bad limits with a clear 400")
    func adminValidation() async throws {
        try await Self.run { h, _ in
            let typo = try await h.post("/v1/admin/keys", ["tenant": "acme", "rmp": 5], headers: h.admin)
            #expect(typo.status == 400)
            #expect(typo.json["error"]?["message"]?.stringValue?.contains("rmp") == true)
            let bad = try await h.post("/v1/admin/keys", ["tenant": "acme", "rpm": 0], headers: h.admin)
            #expect(bad.status == 400)
            let noTenant = try await h.post("/v1/admin/keys", [:], headers: h.admin)
            #expect(noTenant.status == 400)
            let missing = try await h.request(.GET, "/v1/admin/keys/key_nope", headers: h.admin)
            #expect(missing.status == 404)
            _ = try await Self.key(h, tenant: "busy")
            let busy = try await h.request(.DELETE, "/v1/admin/tenants/busy", headers: h.admin)
            #expect(busy.status == 400)
        }
    }
}
