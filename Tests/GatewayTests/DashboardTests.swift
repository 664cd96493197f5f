import DejaSupport
import Foundation
import Gateway
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// The dashboard at `/ui`: its login, session and CSRF rules over HTTP, its data routes, and the
/// pages themselves in headless Chromium.
@Suite("Dashboard")
struct DashboardTests {
    typealias H = GatewayHarness

    /// Signs in with the admin key; the session cookie's token.
    static func signIn(_ h: H) async throws -> String {
        let reply = try await h.request(
            .POST, "/ui/login", body: Data("key=\(H.adminKey)".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(reply.status == 303)
        #expect(reply.headers["location"].first == "/ui/overview")
        let cookie = try #require(reply.headers["set-cookie"].first)
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        return String(cookie.split(separator: ";")[0].dropFirst("deja_session=".count))
    }

    @Test("pages need a login; a wrong key is refused; the session stands for the admin key, with a CSRF token to change anything")
    func sessions() async throws {
        try await H.run(inProcess: true) { h in
            let anonymous = try await h.request(.GET, "/ui/overview")
            #expect(anonymous.status == 303 && anonymous.headers["location"].first == "/ui/login")
            #expect(try await h.request(.GET, "/v1/admin/traffic").status == 401)

            let wrong = try await h.request(
                .POST, "/ui/login", body: Data("key=guess".utf8), contentType: "application/x-www-form-urlencoded")
            #expect(wrong.status == 401)
            #expect(wrong.headers["set-cookie"].isEmpty)
            #expect(wrong.text.contains("Wrong admin key"))

            let token = try await Self.signIn(h)
            let cookie = ["cookie": "deja_session=\(token)"]
            let page = try await h.request(.GET, "/ui/entries", headers: cookie)
            #expect(page.status == 200)
            #expect(page.headers["content-security-policy"].first?.hasPrefix("default-src 'self'") == true)
            #expect(!page.text.contains(H.adminKey) && !page.text.contains("<script>") && !page.text.contains("style="))
            let csrf = try #require(page.text.firstMatch(of: /name="csrf-token" content="([0-9a-f]+)"/)?.1).description
            #expect(try await h.request(.GET, "/v1/admin/traffic", headers: cookie).status == 200)
            #expect(try await h.request(.GET, "/v1/cache/stats", headers: cookie).status == 200)

            // A change without the CSRF token is refused and changes nothing.
            _ = try await h.chat("What is the boiling point of water?")
            await h.settle()
            let forged = try await h.request(.DELETE, "/v1/cache?all=true", headers: cookie)
            #expect(forged.status == 403 && forged.json["error"]?["code"]?.stringValue == "csrf_failed")
            #expect(try await h.request(.GET, "/v1/cache/stats", headers: h.admin).json["entries"]?.intValue == 1)
            var withToken = cookie
            withToken["x-csrf-token"] = csrf
            #expect(try await h.request(.DELETE, "/v1/cache?all=true", headers: withToken).json["purged"]?.intValue == 1)

            // Signing out ends the session.
            let out = try await h.request(
                .POST, "/ui/logout", body: Data("csrf=\(csrf)".utf8), headers: cookie, contentType: "application/x-www-form-urlencoded")
            #expect(out.status == 303)
            #expect(try await h.request(.GET, "/v1/admin/traffic", headers: cookie).status == 401)
        }
    }

    @Test("/v1/admin/traffic counts the requests by outcome; /v1/admin/requests lists them newest first")
    func trafficRoutes() async throws {
        try await H.run(inProcess: true) { h in
            for prompt in ["How do I reset my password?", "How do I reset my password?", "How can I reset my password?", "Tell me a joke"] {
                #expect(try await h.chat(prompt).status == 200)
                await h.settle()
            }
            let traffic = try await h.request(.GET, "/v1/admin/traffic?range=hour", headers: h.admin).json
            let totals = traffic["totals"]
            #expect(totals?["requests"]?.intValue == 4)
            #expect(totals?["exact_hits"]?.intValue == 1)
            #expect(totals?["semantic_hits"]?.intValue == 1)
            #expect(totals?["misses"]?.intValue == 2)
            #expect(totals?["hit_p50_ms"]?.doubleValue != nil && totals?["miss_p50_ms"]?.doubleValue != nil)
            #expect(traffic["similarity"]?["semantic_hits"]?.arrayValue?.compactMap(\.intValue).reduce(0, +) == 1)
            let recent = try await h.request(.GET, "/v1/admin/requests?limit=10", headers: h.admin).json["data"]?.arrayValue ?? []
            #expect(recent.map { $0["cache"]?.stringValue } == ["miss", "semantic-hit", "hit", "miss"])
            #expect(recent.allSatisfy { $0["prompt"] == nil })  // logging.prompts is off
            #expect(try await h.request(.GET, "/v1/admin/traffic?range=year", headers: h.admin).status == 400)
            #expect(try await h.request(.GET, "/v1/admin/requests?limit=0", headers: h.admin).status == 400)
        }
    }

    /// `fixtures/dashboard_browser.py`: Chromium signs in, reads each page, deletes an entry and
    /// purges a label (declining the confirmation first), and reports what it saw.
    @Test("in a real browser: the hit rate shown is the stats', a deleted entry goes, a purge asks first, no console errors")
    func browser() async throws {
        guard FileManager.default.isExecutableFile(atPath: OpenAIClientTests.python) else {
            Issue.record("\(OpenAIClientTests.python) is missing: run `make test`, which installs selenium there")
            return
        }
        // The cosine decides, so the histogram has its threshold line (with the verifier it is a probability).
        try await H.run(configure: { $0.server.auth = .keys; $0.cache.verifier.enabled = false }) { h in
            let (_, secret) = try await h.governance.administration.createKey(KeySpec(tenant: "acme"))
            try await h.governance.reload()
            let key = ["authorization": "Bearer \(secret)"]
            for prompt in ["How do I reset my password?", "How do I reset my password?", "How can I reset my password?",
                           "Tell me a joke", "What is the capital of Peru?"] {
                #expect(try await h.chat(prompt, headers: key).status == 200)
                await h.settle()
            }
            let stats = try await h.request(.GET, "/v1/cache/stats", headers: h.admin).json
            let entries = try #require(stats["entries"]?.intValue)
            let rate = try #require(stats["hit_rate"]?.doubleValue)
            let listed = try await h.request(.GET, "/v1/cache/entries", headers: h.admin).json["data"]?.arrayValue ?? []
            let label = try #require(listed.first?["label"]?.stringValue)
            #expect(Set(listed.compactMap { $0["label"]?.stringValue }) == [label])
            let run = try await onOwnThread {
                try ChildProcess.run(OpenAIClientTests.python, ["fixtures/dashboard_browser.py", h.base, H.adminKey, "--purge-label", label])
            }
            #expect(run.status == 0, "\(run.output)")
            let seen = try JSONValue.parse(Data(run.output.utf8))
            #expect(seen["failure"] == nil, "\(run.output)")
            #expect(seen["console_errors"]?.arrayValue?.isEmpty == true, "\(run.output)")
            #expect(seen["redirected_to_login"]?.boolValue == true)
            #expect(seen["wrong_key_message"]?.stringValue == "Wrong admin key." && seen["wrong_key_cookie"]?.boolValue == false)
            #expect(seen["cookie"]?["httpOnly"]?.boolValue == true && seen["cookie"]?["sameSite"]?.stringValue == "Strict")
            let shown = String(format: "%.1f%%", rate * 100)
            #expect(seen["stats_hit_rate"]?.stringValue == shown, "stats say \(rate)")
            #expect(seen["hit_rate"]?.stringValue == "40.0%")  // 1 exact + 1 semantic of 5 lookups
            #expect(seen["requests"]?.stringValue == "5")
            #expect(seen["entries_tile"]?.stringValue == String(entries))
            #expect(seen["threshold_line"]?.boolValue == true)
            #expect(seen["entry_rows"]?.intValue == entries)
            #expect(seen["entry_answer"]?.stringValue?.contains("mock upstream") == true)
            #expect(seen["delete_confirm"]?.stringValue?.hasPrefix("Delete this entry?") == true)
            #expect(seen["deleted_still_listed"]?.boolValue == false)
            let deleted = try #require(seen["deleted_id"]?.stringValue)
            #expect(try await h.request(.GET, "/v1/cache/entries/\(deleted)", headers: h.admin).status == 404)
            #expect(seen["purge_confirm"]?.stringValue?.contains(label) == true)
            #expect(seen["purge_dismissed_status"]?.stringValue == "Nothing purged.")
            #expect(seen["rows_after_dismiss"]?.intValue == entries - 1)
            #expect(seen["purge_status"]?.stringValue?.hasPrefix("Purged \(entries - 1) entries") == true, "\(run.output)")
            #expect(seen["rows_after_purge"]?.intValue == 0)
            #expect(try await h.request(.GET, "/v1/cache/stats", headers: h.admin).json["entries"]?.intValue == 0)
            #expect(seen["tenant_rows"]?.arrayValue?.compactMap(\.stringValue) == ["tenant-acme"])
            #expect(seen["key_rows"]?.intValue == 1)
            #expect((seen["live_rows"]?.intValue ?? 0) >= 5)
            #expect(seen["live_first"]?.stringValue?.contains("/v1/chat/completions") == true)
            #expect(seen["signed_out"]?.boolValue == true)
        }
    }
}
