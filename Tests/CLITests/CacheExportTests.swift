import DejaSupport
import Foundation
import SemanticCache
import Testing
import TestSupport

@Suite("deja cache export")
struct CacheExportTests {
    typealias S = ServeTests

    static func chat(_ prompt: String, system: String) -> String {
        #"{"model":"gpt-test","messages":[{"role":"system","content":"\#(system)"},{"role":"user","content":"\#(prompt)"}]}"#
    }

    /// The lines of an export without what a restore makes anew (the id) or counts afresh
    /// (hits), sorted: what must be equal in two caches that hold the same entries.
    static func comparable(_ export: String) throws -> [String] {
        try export.split(separator: "\n").map { line in
            var entry = try JSONValue.parse(Data(line.utf8)).objectValue ?? [:]
            for field in ["id", "hits", "last_hit_at"] { entry[field] = nil }
            return JSONValue.object(entry).jsonString
        }.sorted()
    }

    /// A cache moves to another gateway through both running ones (`--url`), and between stopped
    /// ones through their stores; the same requests hit there with the same answers.
    @Test("export and import move a cache between gateways, running or stopped: the same requests hit with the same answers")
    func roundTrip() async throws {
        try await S.withMockConfig { dir, config in
            let admin = ["DEJA_ADMIN_KEY": "k"]
            let (first, firstPort) = try DejaBinary.startServer(["serve", "--config", config], environment: admin)
            let a = "http://127.0.0.1:\(firstPort)"
            let terse = "You are terse."
            let asked = try await S.send(a + "/v1/chat/completions", body: Self.chat("How do I reset my password?", system: terse))
            #expect(asked.cache == "miss")
            #expect(try await S.send(a + "/v1/chat/completions", body: Self.chat("Where is my order?", system: "You ship.")).cache == "miss")
            #expect(try await S.send(a + "/v1/completions", body: #"{"model":"gpt-test","prompt":"Say hello"}"#).cache == "miss")
            try await Task.sleep(for: .milliseconds(300))  // the misses are stored after their answers

            let exported = dir.path("export.jsonl")
            let export = try DejaBinary.run(["cache", "export", "--url", a, "--output", exported], environment: admin)
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stderr.contains("exported 3 entries"), "\(export.stderr)")
            let lines = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.first?.contains(#""prompt":"How do I reset my password?""#) == true, "oldest first: \(lines)")
            #expect(!FileManager.default.fileExists(atPath: exported + ".\(getpid()).deja-tmp"))
            let byLabel = try DejaBinary.run(["cache", "export", "--url", a, "--label=-/gpt-*"], environment: admin)
            #expect(byLabel.stdout.split(separator: "\n").count == 3, "a label glob: \(byLabel.stderr)")
            let otherTenant = try DejaBinary.run(["cache", "export", "--url", a, "--label", "acme/*"], environment: admin)
            #expect(otherTenant.status == 0 && otherTenant.stdout.isEmpty, "\(otherTenant.stdout)")
            first.terminate()
            first.waitUntilExit()

            // Another gateway with a cache of its own, restored through its lookup API.
            let other = dir.path("other.yaml")
            try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "store: cache.sqlite", with: "store: other.sqlite")
                .replacingOccurrences(of: "index_file: cache.hnsw", with: "index_file: other.hnsw")
                .write(toFile: other, atomically: true, encoding: .utf8)
            let (second, secondPort) = try DejaBinary.startServer(["serve", "--config", other], environment: admin)
            let b = "http://127.0.0.1:\(secondPort)"
            let imported = try DejaBinary.run(["cache", "import", exported, "--url", b], environment: admin)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.split(separator: "\n").filter { $0.hasPrefix("stored ") }.count == 3, "\(imported.stdout)")
            let again = try await S.send(b + "/v1/chat/completions", body: Self.chat("How do I reset my password?", system: terse))
            #expect(again.cache == "hit" && again.body.contains("reset my password"), "\(again.body)")
            let similar = try await S.send(b + "/v1/chat/completions", body: Self.chat("How can I reset my password?", system: terse))
            #expect(similar.cache == "semantic-hit", "embedded anew in the new cache")
            #expect(try await S.send(b + "/v1/completions", body: #"{"model":"gpt-test","prompt":"Say hello"}"#).cache == "hit")
            let otherSystem = try await S.send(b + "/v1/chat/completions", body: Self.chat("How do I reset my password?", system: "Be kind."))
            #expect(otherSystem.cache == "miss", "the namespace came along")
            second.terminate()
            second.waitUntilExit()

            // Stopped: export from the store, import into a third, export that: the same entries.
            let fromStore = try DejaBinary.run(["cache", "export", "--config", other])
            #expect(fromStore.status == 0, "\(fromStore.stderr)")
            #expect(fromStore.stdout.split(separator: "\n").count == 4, "the three and the other system prompt's miss")
            let third = dir.path("third.yaml")
            try "cache:\n  store: third.sqlite\n  index_file: third.hnsw\n".write(toFile: third, atomically: true, encoding: .utf8)
            let offline = try DejaBinary.run(["cache", "import", exported, "--config", third])
            #expect(offline.status == 0, "\(offline.stderr)")
            let thirdExport = try DejaBinary.run(["cache", "export", "--config", third])
            #expect(try Self.comparable(thirdExport.stdout) == Self.comparable(String(contentsOfFile: exported, encoding: .utf8)))
        }
    }

    @Test("an expired entry is left out, a broken one stops the import naming its line, and export refuses a missing cache")
    func badInput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.path("deja.yaml")
        try "cache:\n  store: cache.sqlite\n  index_file: ''\n".write(toFile: config, atomically: true, encoding: .utf8)
        let missing = try DejaBinary.run(["cache", "export", "--config", config])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("there is no cache at"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("cache.sqlite")), "nor makes one")

        let answer = #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}]}"#
        func entry(expires: String = "null", response: String = answer) -> String {
            #"{"object":"cache.entry","id":"7","namespace":"0123456789abcdef0123456789abcdef","label":"-/gpt-test","prompt":"Hello?","model":"gpt-test","created_at":1700000000,"expires_at":\#(expires),"response":\#(response)}"#
        }
        let file = dir.path("entries.jsonl")
        try [entry(), entry(expires: "1700000100")].joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try DejaBinary.run(["cache", "import", file, "--config", config])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.split(separator: "\n").count == 1)
        #expect(imported.stderr.contains("left out 1 expired entry"), "\(imported.stderr)")
        try #"{"prompt": "Bye?", "answer": "Bye."}"#.write(toFile: dir.path("other.jsonl"), atomically: true, encoding: .utf8)
        #expect(try DejaBinary.run(["cache", "import", dir.path("other.jsonl"), "--config", config]).status == 0)
        let export = try DejaBinary.run(["cache", "export", "--config", config, "--namespace", "0123456789abcdef0123456789abcdef"])
        let exported = export.stdout.split(separator: "\n")
        #expect(exported.count == 1 && exported.first?.contains(#""namespace":"0123456789abcdef0123456789abcdef""#) == true,
                "only that namespace: \(export.stdout)")
        #expect(export.stdout.contains(#""content":"Hi.""#))
        let byLabel = try DejaBinary.run(["cache", "export", "--config", config, "--label=-/gpt-4o-*"])
        #expect(byLabel.stdout.split(separator: "\n").count == 1 && byLabel.stdout.contains(#""prompt":"Bye?""#), "\(byLabel.stdout)")
        // A pipe is written as it is, not renamed over with a plain file.
        let fifo = dir.path("export.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = ResultBox<Data>()
        let read = DispatchSemaphore(value: 0)
        let reader = Thread {
            received.value = .success(FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data())
            read.signal()
        }
        reader.start()
        let piped = try DejaBinary.run(["cache", "export", "--config", config, "--output", fifo])
        #expect(piped.status == 0, "\(piped.stderr)")
        read.wait()
        #expect(String(decoding: try received.value!.get(), as: UTF8.self).split(separator: "\n").count == 2)
        var status = stat()
        #expect(lstat(fifo, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO, "still the pipe it was")

        try [entry(), entry(response: #"{"object":"chat.completion","choices":[]}"#)].joined(separator: "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let broken = try DejaBinary.run(["cache", "import", file, "--config", config])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("entries.jsonl:2: 'response' must be a complete answer"), "\(broken.stderr)")
        #expect(broken.stdout.isEmpty, "nothing stored from a file with a broken line")

        let badOption = try DejaBinary.run(["cache", "export", "--config", config, "--namespace", "acme"])
        #expect(badOption.status != 0 && badOption.stderr.contains("32-digit namespace id"), "\(badOption.stderr)")
        let unwritable = try DejaBinary.run(["cache", "export", "--config", config, "--output", dir.path("no/such/folder/x.jsonl")])
        #expect(unwritable.status == 1 && unwritable.stderr.contains("cannot write"), "\(unwritable.stderr)")
    }
}
