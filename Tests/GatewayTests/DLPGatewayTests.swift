import DejaSupport
import Foundation
import Gateway
import MockProvider
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

/// `guards.dlp` and `guards.deny` through the gateway: what the provider sees, what the client
/// gets, what the cache, the logs, the ledger and the pairs log keep.
@Suite("DLP through the gateway")
struct DLPGatewayTests {
    typealias H = GatewayHarness

    static let card = "4111 1111 1111 1111"
    static let email = "jane.doe@example.com"

    static func redacting(_ c: inout DejaConfiguration) {
        c.guards.dlp = DLPConfiguration(prompt: .redact, answer: .redact)
    }

    @Test("redact: the provider never sees the values; the answer and the cache hold placeholders")
    func redactPrompt() async throws {
        try await H.run(inProcess: true, configure: Self.redacting) { h in
            let reply = try await h.chat("Charge card \(Self.card) and mail \(Self.email) the receipt")
            #expect(reply.status == 200)
            let sent = h.mock.lastBody(to: "/v1/chat/completions")?.jsonString ?? ""
            #expect(sent.contains("[CARD]") && sent.contains("[EMAIL]"), "\(sent)")
            #expect(!sent.contains("4111") && !sent.contains("jane.doe"), "\(sent)")
            #expect(reply.assistantText?.contains("[CARD]") == true)
            await h.settle()
            // The same values again: a hit, without a second provider call.
            let again = try await h.chat("Charge card \(Self.card) and mail \(Self.email) the receipt")
            #expect(again.cache == "hit")
            // Other values behind the same placeholders: not the first user's answer.
            let other = try await h.chat("Charge card 5555 5555 5555 4444 and mail bob@example.org the receipt")
            #expect(other.cache == "miss")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 2)
        }
    }

    @Test("share_redacted: prompts that differ only in redacted values share the answer")
    func sharedRedactions() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.redacting(&c)
            c.guards.dlp.shareRedacted = true
        }) { h in
            _ = try await h.chat("Charge card \(Self.card) please")
            await h.settle()
            #expect(try await h.chat("Charge card 5555 5555 5555 4444 please").cache == "hit")
        }
    }

    @Test("block: a 400 naming the detector, never the value; the provider is not called")
    func block() async throws {
        try await H.run(inProcess: true, configure: { c in
            c.guards.dlp = DLPConfiguration(detectors: ["card": DetectorRule(prompt: .block)])
        }) { h in
            let reply = try await h.chat("My card is \(Self.card), book it")
            #expect(reply.status == 400)
            #expect(reply.json["error"]?["code"]?.stringValue == "prompt_blocked")
            let message = reply.json["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("payment card") && !message.contains("4111"), "\(message)")
            #expect(h.mock.requests(to: "/v1/chat/completions") == 0)
            // Other detectors are off: an e-mail address goes through unchanged.
            #expect(try await h.chat("mail \(Self.email)").status == 200)
            #expect(h.mock.lastBody(to: "/v1/chat/completions")?.jsonString.contains(Self.email) == true)
        }
    }

    @Test("log: the text is unchanged, the detection counted and marked in the log line")
    func log() async throws {
        let capture = LogCapture()
        try await H.run(inProcess: true, configure: { c in c.guards.dlp = DLPConfiguration(prompt: .log) }, logger: capture.logger) { h in
            _ = try await h.chat("mail \(Self.email) now")
            #expect(h.mock.lastBody(to: "/v1/chat/completions")?.jsonString.contains(Self.email) == true)
            let metrics = try await h.request(.GET, "/metrics", contentType: nil).text
            #expect(metrics.contains(#"deja_guard_detections_total{detector="email",direction="prompt",action="log"} 1"#), "\(metrics)")
        }
        #expect(capture.messages.contains { $0.hasPrefix("request ") && $0.contains("guard=dlp_prompt=email:log=1") })
    }

    @Test("reversible: the provider sees [EMAIL_1], the client reads the address, the cache keeps the placeholder")
    func reversible() async throws {
        try await H.run(inProcess: true, configure: { c in
            Self.redacting(&c)
            c.guards.dlp.reversible = true
        }) { h in
            let reply = try await h.chat("Write to \(Self.email) and \(Self.email) about card \(Self.card)")
            let sent = h.mock.lastBody(to: "/v1/chat/completions")?.jsonString ?? ""
            #expect(sent.contains("Write to [EMAIL_1] and [EMAIL_1] about card [CARD_1]"), "\(sent)")
            // The mock echoes the prompt: the client's answer has the values back.
            #expect(reply.assistantText?.contains("Write to \(Self.email) and \(Self.email) about card \(Self.card)") == true,
                    "\(reply.assistantText ?? "")")
            await h.settle()
            let entries = try await h.request(.GET, "/v1/cache/entries?limit=10", headers: h.admin).text
            #expect(entries.contains("[EMAIL_1]") && !entries.contains("jane.doe"), "\(entries)")
            // A hit is restored with the asking request's values.
            let hit = try await h.chat("Write to \(Self.email) and \(Self.email) about card \(Self.card)")
            #expect(hit.cache == "hit")
            #expect(hit.assistantText?.contains(Self.email) == true)
            let streamedHit = try await h.chat("Write to \(Self.email) and \(Self.email) about card \(Self.card)", stream: true)
            #expect(streamedHit.assistantText?.contains(Self.email) == true)
            // A streamed miss puts them back across chunk boundaries too.
            let streamed = try await h.chat("Streamed to \(Self.email) for \(Self.card)", stream: true)
            #expect(streamed.assistantText?.contains("Streamed to \(Self.email) for \(Self.card)") == true, "\(streamed.assistantText ?? "")")
        }
    }

    @Test("answers are redacted on their way back, streams across chunk boundaries; the client never gets a piece")
    func answers() async throws {
        try await H.run(inProcess: true, configure: { c in c.guards.dlp = DLPConfiguration(answer: .redact) }) { h in
            // The mock echoes the prompt word by word: the card arrives in four chunks.
            let streamed = try await h.chat("Repeat \(Self.card) and \(Self.email)", stream: true)
            #expect(streamed.status == 200)
            let text = streamed.assistantText ?? ""
            #expect(text.contains("Repeat [CARD] and [EMAIL]"), "\(text)")
            for event in streamed.events { #expect(!event.contains("4111") && !event.contains("jane.doe"), "\(event)") }
            // The provider saw the prompt as sent (the prompt direction is off).
            #expect(h.mock.lastBody(to: "/v1/chat/completions")?.jsonString.contains("4111 1111") == true)
            let plain = try await h.chat("Echo \(Self.card) back")
            #expect(plain.assistantText?.contains("Echo [CARD] back") == true)
            let responses = try await h.post("/v1/responses", ["model": "gpt-test", "input": .string("Say \(Self.email) please"), "stream": true])
            #expect(!responses.text.contains("jane.doe") && responses.text.contains("[EMAIL]"), "\(responses.text)")
            let completions = try await h.post("/v1/completions", ["model": "gpt-test", "prompt": .string("Say \(Self.email)")])
            #expect(completions.text.contains("[EMAIL]") && !completions.text.contains("jane.doe"))
            // Streamed tool call arguments are screened too; the held end comes with the last chunk.
            let tools = try await h.chat("mail \(Self.email)", model: "mock-tools", stream: true)
            let arguments = tools.events.compactMap { try? JSONValue.parse($0) }
                .compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue }.flatMap { $0 }
                .compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
            #expect(arguments == #"{"query":"mail [EMAIL]"}"#, "\(arguments)")
        }
    }

    @Test("embeddings forwarded to a provider get the prompt's redaction; Deja's own embedder runs in process")
    func embeddings() async throws {
        try await H.run(inProcess: true, configure: Self.redacting) { h in
            let reply = try await h.post("/v1/embeddings", ["model": "text-embedding-3-small", "input": [.string("mail \(Self.email)"), "plain"]])
            #expect(reply.status == 200)
            let sent = h.mock.lastBody(to: "/v1/embeddings")?.jsonString ?? ""
            #expect(sent.contains("mail [EMAIL]") && !sent.contains("jane.doe"), "\(sent)")
        }
    }

    @Test("with redaction on, no raw value reaches the cache store, the request log, the usage ledger or the pairs log")
    func nothingRaw() async throws {
        let capture = LogCapture()
        let dir = try TemporaryDirectory("deja-dlp")
        defer { dir.remove() }
        let pairs = dir.path("pairs.jsonl")
        let values = [Self.card, "4111111111111111", Self.email, "sk-proj-abcdefghijklmnopqrstuvwx1234", "+1 415 555 2671", "123-45-6789"]
        let stores = Mutex<[String]>([])
        try await H.run(inProcess: true, configure: { c in
            Self.redacting(&c)
            c.logging.prompts = true
            c.cache.pairsLog.file = pairs
            c.cache.pairsLog.band = 1
        }, logger: capture.logger) { h in
            let configuration = h.gateway.configuration
            stores.withLock { $0 = [configuration.cache.store, configuration.governance.store] }
            _ = try await h.chat("Card \(Self.card), mail \(Self.email), key sk-proj-abcdefghijklmnopqrstuvwx1234")
            _ = try await h.chat("Call +1 415 555 2671 about SSN 123-45-6789", stream: true)
            _ = try await h.chat("Card 4111111111111111 for the order of Jane, mail \(Self.email)")
            _ = try await h.chat("Card \(Self.card), mail \(Self.email) and key sk-proj-abcdefghijklmnopqrstuvwx1234 again")
            await h.settle()
            _ = try await h.governance.ledger.flush()
        }
        var files = [pairs] + stores.withLock { $0 }
        for store in stores.withLock({ $0 }) { files += ["\(store)-wal"] }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for value in values { #expect(!text.contains(value), "\(value) in \(file)") }
        }
        #expect(FileManager.default.fileExists(atPath: pairs))
        let log = capture.messages.joined(separator: "\n")
        #expect(log.contains("prompt=") && log.contains("[CARD]"))
        for value in values { #expect(!log.contains(value), "\(value) in the log") }
    }

    @Test("deny-lists: a term blocks the prompt of the routes it names, and is redacted from answers")
    func denyLists() async throws {
        try await H.run(inProcess: true, configure: { c in
            c.guards.deny = [
                DenyList(name: "projects", terms: ["Project Falcon"], models: ["gpt-test"]),
                DenyList(name: "rivals", terms: ["Acme Corp"], patterns: ["globex\\s+inc"], prompt: .log, answer: .redact, placeholder: "RIVAL"),
            ]
        }) { h in
            let blocked = try await h.chat("What is the status of project falcon?")
            #expect(blocked.status == 400)
            #expect(blocked.json["error"]?["message"]?.stringValue?.contains("deny-list 'projects'") == true)
            // Not a whole word, or another route: not refused.
            #expect(try await h.chat("What is the status of project falconry?").status == 200)
            #expect(try await h.chat("What is the status of project falcon?", model: "other-model").status == 200)
            let answer = try await h.chat("Compare acme corp with Globex  Inc")
            #expect(answer.assistantText?.contains("Compare [RIVAL] with [RIVAL]") == true, "\(answer.assistantText ?? "")")
        }
    }
}
