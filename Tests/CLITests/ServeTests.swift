import DejaSupport
import AsyncHTTPClient
import Embedding
import Foundation
import NIOCore
import NIOHTTP1
import SemanticCache
import Testing
import TestSupport

@Suite("deja serve, mock-upstream and config check")
struct ServeTests {
    static let client = HTTPClient(configuration: .deja())

    /// One request; returns the status, the `x-deja-cache` header and the body.
    static func send(_ url: String, body: String? = nil) async throws -> (status: Int, cache: String?, body: String) {
        var request = HTTPClientRequest(url: url)
        if let body {
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "x-deja-cache"), String(buffer: bytes))
    }

    /// `deja.yaml` in `dir`: any port, a cache beside the file, every model sent to the mock.
    static func writeConfig(in dir: TemporaryDirectory, mockPort: Int) throws -> String {
        let config = dir.path("deja.yaml")
        try """
            server:
              port: 0
            cache:
              store: cache.sqlite
              index_file: cache.hnsw
            providers:
              mock:
                base_url: http://127.0.0.1:\(mockPort)/v1
            models:
              "*":
                provider: mock
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Runs `body` with a temporary folder holding `deja.yaml` for a running `deja mock-upstream`.
    static func withMockConfig(_ body: (TemporaryDirectory, String) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (mock, mockPort) = try DejaBinary.startServer(["mock-upstream", "--port", "0"])
        defer { mock.terminate() }
        try await body(dir, try writeConfig(in: dir, mockPort: mockPort))
    }

    /// SIGTERM stops the gateway gracefully: it exits 0 after saving the index snapshot, and a
    /// restart serves the stored answer.
    @Test("graceful shutdown saves the cache; a restart serves it")
    func gracefulShutdown() async throws {
        try await Self.withMockConfig { dir, config in
            let chat = #"{"model":"gpt-test","messages":[{"role":"user","content":"How do I reset my password?"}]}"#
            // What a process killed while saving its snapshot leaves behind: removed at start.
            let leftover = dir.path("cache.hnsw.999999.deja-tmp")
            try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: leftover))

            let (server, port) = try DejaBinary.startServer(["serve", "--config", config])
            #expect(!FileManager.default.fileExists(atPath: leftover))
            let first = try await Self.send("http://127.0.0.1:\(port)/v1/chat/completions", body: chat)
            #expect(first.status == 200, "\(first.body)")
            #expect(first.cache == "miss")
            try await Task.sleep(for: .milliseconds(300))
            server.terminate()  // SIGTERM
            server.waitUntilExit()
            #expect(server.terminationStatus == 0)
            #expect(FileManager.default.fileExists(atPath: dir.path("cache.hnsw")))

            let (again, port2) = try DejaBinary.startServer(["serve", "--config", config])
            defer { again.terminate() }
            let second = try await Self.send("http://127.0.0.1:\(port2)/v1/chat/completions", body: chat)
            #expect(second.cache == "hit")
        }
    }

    /// The in-process gateway tests run on Swift's default executor; this runs the real binary,
    /// whose handlers run on the event loops and whose answers are stored on the blocking-work
    /// executor, under concurrent hits and misses, plain and streamed.
    @Test("deja serve under concurrent load: hits and misses side by side, no errors, still ready")
    func underLoad() async throws {
        try await Self.withMockConfig { _, config in
            let (server, port) = try DejaBinary.startServer(["serve", "--config", config])
            defer { server.terminate() }
            for stream in [false, true] {
                // Short and light: other tests run beside this one, some of them timing a response.
                let load = try await onOwnThread {
                    try DejaBinary.run([
                        "bench", "gateway", "--url", "http://127.0.0.1:\(port)", "--concurrency", "4", "--duration", "1",
                        "--hit-ratio", "0.5", "--warm", "20", "--json",
                    ] + (stream ? ["--stream"] : []))
                }
                #expect(load.status == 0, "\(load.stderr)")
                let report = try JSONValue.parse(Data(load.stdout.utf8))
                #expect(report["errors"]?.intValue == 0, "stream: \(stream)")
                for kind in ["hit", "miss"] {
                    let latency = report["byCache"]?[kind]
                    #expect((latency?["requests"]?.intValue ?? 0) > 0, "\(kind), stream: \(stream)")
                    #expect((latency?["firstByteP50Milliseconds"]?.doubleValue ?? .infinity)
                            <= (latency?["p50Milliseconds"]?.doubleValue ?? 0))
                }
            }
            #expect(try await Self.send("http://127.0.0.1:\(port)/readyz").status == 200)
            server.terminate()
            server.waitUntilExit()
            #expect(server.terminationStatus == 0)
        }
    }

    @Test("deja serve over HTTPS (server.tls), loaded by deja bench gateway --cacert: no errors, hits and misses")
    func httpsUnderLoad() async throws {
        try await Self.withMockConfig { dir, config in
            let (cert, key) = try await TestCertificate.make(in: dir)
            let environment = ["DEJA_SERVER_TLS_CERT_FILE": cert, "DEJA_SERVER_TLS_KEY_FILE": key]
            let (server, port) = try DejaBinary.startServer(["serve", "--config", config], environment: environment)
            defer { server.terminate() }
            let load = try await onOwnThread {
                try DejaBinary.run([
                    "bench", "gateway", "--url", "https://127.0.0.1:\(port)", "--cacert", cert, "--concurrency", "4",
                    "--duration", "1", "--hit-ratio", "0.5", "--warm", "20", "--json",
                ])
            }
            #expect(load.status == 0, "\(load.stderr)")
            let report = try JSONValue.parse(Data(load.stdout.utf8))
            #expect(report["errors"]?.intValue == 0)
            #expect((report["byCache"]?["hit"]?["requests"]?.intValue ?? 0) > 0, "\(load.stdout)")
            #expect((report["byCache"]?["miss"]?["requests"]?.intValue ?? 0) > 0, "\(load.stdout)")
        }
    }

    /// Past the open-file limit new clients wait unanswered in the listen queue, and nothing
    /// in the server notices; `deja serve` raises its soft limit to the hard one at start.
    @Test("deja serve raises its open-file limit to the hard one, serving more clients at once than the soft limit allows")
    func openFileLimit() async throws {
        try await Self.withMockConfig { _, config in
            let (server, port, log) = try DejaBinary.startServerWithLog(
                ["serve", "--config", config], openFiles: (soft: 64, hard: 1000))
            defer { server.terminate() }
            #expect(log.contains("open-file limit raised from 64 to "), "\(log)")
            #expect(log.contains("files may be open at once"), "a limit of 1000 or less is worth a warning: \(log)")
            let clients = 150
            let answered = try await onOwnThread { () throws -> Int in
                var connections: [RawHTTPConnection] = []
                for _ in 0..<clients {
                    let connection = try RawHTTPConnection(port: port, timeout: 3)
                    try connection.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                    connections.append(connection)
                }
                var answered = 0
                // All held open at once; the first that gets no answer ends the count (the rest would wait too).
                for connection in connections {
                    guard (try? connection.readHead())?.hasPrefix("HTTP/1.1 200") == true else { break }
                    answered += 1
                }
                return answered
            }
            #expect(answered == clients)
        }
    }

    /// Each process keeps the cache's index and counters in memory: two on one store would
    /// miss each other's entries and keep serving what the other purged.
    @Test("a second process on a cache store in use is refused with the first one's pid, and starts once it stopped")
    func storeInUse() async throws {
        try await Self.withMockConfig { _, config in
            let (first, firstPort) = try DejaBinary.startServer(["serve", "--config", config], environment: ["DEJA_ADMIN_KEY": "k"])
            let second = try await onOwnThread { try DejaBinary.run(["serve", "--config", config]) }
            #expect(second.status == 1)
            let errors = second.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errors.count == 1, "\(second.stderr)")
            #expect(errors.first?.contains("cache.sqlite is in use by another Deja process (pid \(first.processIdentifier))") == true,
                    "\(second.stderr)")
            let entries = config.replacingOccurrences(of: "deja.yaml", with: "entries.jsonl")
            try #"{"prompt": "Hello?", "answer": "Hi."}"#.write(toFile: entries, atomically: true, encoding: .utf8)
            let importing = try DejaBinary.run(["cache", "import", entries, "--config", config])
            #expect(importing.status == 1)
            #expect(importing.stderr.contains("is in use by another Deja process"), "\(importing.stderr)")
            // Through the running gateway instead: its lookup API, with its admin key.
            let gateway = "http://127.0.0.1:\(firstPort)"
            let through = try DejaBinary.run(["cache", "import", entries, "--url", gateway], environment: ["DEJA_ADMIN_KEY": "k"])
            #expect(through.status == 0, "\(through.stderr)")
            #expect(through.stdout.hasPrefix("stored "), "\(through.stdout)")
            let chat = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello?"}]}"#
            let served = try await Self.send(gateway + "/v1/chat/completions", body: chat)
            #expect(served.cache == "hit" && served.body.contains("Hi."), "\(served.body)")
            let wrongKey = try DejaBinary.run(["cache", "import", entries, "--url", gateway], environment: ["DEJA_ADMIN_KEY": "nope"])
            #expect(wrongKey.status == 1)
            #expect(wrongKey.stderr.contains("entry 1: the gateway refused it: Missing or wrong admin key"), "\(wrongKey.stderr)")
            let stats = try DejaBinary.run(["cache", "stats", "--url", gateway], environment: ["DEJA_ADMIN_KEY": "k"])
            #expect(stats.status == 0, "\(stats.stderr)")
            #expect(try JSONValue.parse(Data(stats.stdout.utf8))["entries"]?.intValue == 1, "\(stats.stdout)")
            first.terminate()
            first.waitUntilExit()
            let (again, port) = try DejaBinary.startServer(["serve", "--config", config])
            defer { again.terminate() }
            #expect(try await Self.send("http://127.0.0.1:\(port)/healthz").status == 200)
        }
    }

    /// Use 3 end to end: the gateway writes the pairs its traffic made it judge, someone labels
    /// some, and deja tune reads those.
    @Test("cache.pairs_log: deja serve writes its semantic hits as pairs, which deja tune reads once labelled")
    func pairsLogToTune() async throws {
        try await Self.withMockConfig { dir, config in
            var yaml = try String(contentsOfFile: config, encoding: .utf8)
            yaml = yaml.replacingOccurrences(of: "  index_file: cache.hnsw\n", with: "  index_file: cache.hnsw\n  pairs_log:\n    file: pairs.jsonl\n")
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
            let (server, port) = try DejaBinary.startServer(["serve", "--config", config])
            let url = "http://127.0.0.1:\(port)/v1/chat/completions"
            func chat(_ prompt: String) -> String {
                #"{"model":"gpt-test","messages":[{"role":"user","content":"\#(prompt)"}]}"#
            }
            #expect(try await Self.send(url, body: chat("How do I reset my password?")).cache == "miss")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.send(url, body: chat("How can I reset my password?")).cache == "semantic-hit")
            server.terminate()
            server.waitUntilExit()
            let path = dir.path("pairs.jsonl")
            let written = try String(contentsOfFile: path, encoding: .utf8)
            #expect(written.hasPrefix(#"{"a": "How do I reset my password?", "b": "How can I reset my password?", "same": null"#),
                    "\(written)")
            let waiting = try DejaBinary.run(["tune", path])
            #expect(waiting.status == 1)
            #expect(waiting.stderr.contains("holds no labelled pairs yet"), "\(waiting.stderr)")
            let labelled = written.replacingOccurrences(of: #""same": null"#, with: #""same": true"#)
                + #"{"a": "How do I reset my password?", "b": "How do I reset my router?", "same": false}"# + "\n"
                + #"{"a": "Where is my order?", "b": "Where is my parcel?", "same": null}"# + "\n"
            try labelled.write(toFile: path, atomically: true, encoding: .utf8)
            let tuned = try DejaBinary.run(["tune", path])
            #expect(tuned.status == 0, "\(tuned.stderr)")
            #expect(tuned.stdout.contains("left out: 1 not labelled yet (same: null)"), "\(tuned.stdout)")
            #expect(tuned.stdout.contains("pairs: 2 (1 same, 1 different)"), "\(tuned.stdout)")
        }
    }

    @Test("logging.format: json writes one JSON object per line, the request line's numbers as numbers")
    func jsonLogs() async throws {
        try await Self.withMockConfig { dir, config in
            let log = dir.path("serve.log")
            let (server, port) = try DejaBinary.startServer(
                ["serve", "--config", config], environment: ["DEJA_LOGGING_FORMAT": "json"], logFile: log)
            let chat = #"{"model":"gpt-test","messages":[{"role":"user","content":"Log me as \"JSON\", please"}]}"#
            #expect(try await Self.send("http://127.0.0.1:\(port)/v1/chat/completions", body: chat).status == 200)
            #expect(try await Self.send("http://127.0.0.1:\(port)/v1/nowhere").status == 404)
            server.terminate()
            server.waitUntilExit()
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            #expect(lines.count >= 4, "\(lines)")
            let objects = lines.compactMap { try? JSONValue.parse(Data($0.utf8)) }
            #expect(objects.count == lines.count, "every line is one JSON object: \(lines)")
            let requests = objects.filter { $0["message"]?.stringValue == "request" }
            let chatLine = requests.first { $0["path"]?.stringValue == "/v1/chat/completions" }
            #expect(chatLine?["status"]?.intValue == 200)
            #expect(chatLine?["cache"]?.stringValue == "miss")
            #expect(chatLine?["model"]?.stringValue == "gpt-test")
            #expect(chatLine?["latency_ms"]?.doubleValue != nil)
            #expect(chatLine?["request_id"]?.stringValue?.hasPrefix("req_") == true)
            #expect(chatLine?["level"]?.stringValue == "info" && chatLine?["time"]?.stringValue?.hasSuffix("Z") == true)
            #expect(requests.contains { $0["status"]?.intValue == 404 })
            #expect(objects.contains { $0["message"]?.stringValue?.contains("deja listening on") == true })
        }
    }

    @Test("a port already taken stops deja serve with one line that says so")
    func portInUse() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (mock, busy) = try DejaBinary.startServer(["mock-upstream", "--port", "0"])
        defer { mock.terminate() }
        let config = dir.path("deja.yaml")
        try "cache:\n  store: cache.sqlite\n  index_file: ''\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try DejaBinary.run(["serve", "--config", config, "--port", String(busy)])
        #expect(serve.status != 0)
        let errors = serve.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errors == ["Error: cannot listen on 127.0.0.1:\(busy): another process is using that port; stop it or choose another (server.port or --port)"],
                "\(serve.stderr)")
    }

    @Test("deja config check prints the effective configuration, secrets as set or not")
    func configCheck() throws {
        let good = try DejaBinary.run(["config", "check", "fixtures/deja.example.yaml"], environment: ["OPENAI_API_KEY": "sk-secret-value"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("OPENAI_API_KEY: set"))
        #expect(!good.stdout.contains("sk-secret-value"))
        #expect(good.stdout.contains("threshold: 0.95"))

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bad = dir.path("bad.yaml")
        try "cache:\n  threshold: 1.7\nserver:\n  prot: 1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try DejaBinary.run(["config", "check", bad])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix("cache.threshold: must be between 0 and 1, got 1.7") })
        #expect(lines.contains { $0.hasSuffix("server.prot: unknown key; did you mean 'port'?") })
        #expect(lines.count == 2)

        // A valid file whose TLS files deja serve could not use: said here, relative to the file.
        let tls = dir.path("tls.yaml")
        try "server:\n  tls:\n    cert_file: cert.pem\n    key_file: key.pem\n".write(toFile: tls, atomically: true, encoding: .utf8)
        let missing = try DejaBinary.run(["config", "check", tls])
        #expect(missing.status == 1)
        #expect(missing.stderr == "\(tls): server.tls.cert_file: \(dir.path("cert.pem")) does not exist\n", "\(missing.stderr)")
    }

    @Test("a cache store truncated to 0 bytes beside its index snapshot stops deja serve with one line, the snapshot kept")
    func truncatedStore() async throws {
        try await Self.withMockConfig { dir, config in
            // A cache of three entries, closed with its snapshot, as deja serve leaves it
            let cache = try await SemanticCache.open(
                configuration: CacheConfiguration(), embedder: try HashingEmbedder(),
                store: try SQLiteCacheStore(path: dir.path("cache.sqlite")), indexPath: dir.path("cache.hnsw"))
            for p in ["How do I reset my password?", "What is the capital of France?", "How do I boil an egg?"] {
                let request = CacheRequest(model: "gpt-4o-mini", prompt: p)
                try await cache.insert(request, response: Data(#"{"answer":"x"}"#.utf8), model: "gpt-4o-mini")
            }
            try await cache.close()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir.path("cache.sqlite") + suffix) }
            try Data().write(to: URL(fileURLWithPath: dir.path("cache.sqlite")))
            let snapshot = try Data(contentsOf: URL(fileURLWithPath: dir.path("cache.hnsw")))

            let serve = try DejaBinary.run(["serve", "--config", config])
            #expect(serve.status != 0)
            #expect(serve.stderr.contains("the cache store \(dir.path("cache.sqlite")) is empty or new, but the index snapshot "
                + "\(dir.path("cache.hnsw")) holds 3 entries"), "\(serve.stderr)")
            #expect(serve.stderr.split(separator: "\n").count == 1, "\(serve.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("cache.hnsw"))) == snapshot)
        }
    }

    @Test("embedder: minilm without the model files: config check and serve name make model in one line")
    func missingModel() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.path("minilm.yaml")
        try "embedder:\n  kind: minilm\n  minilm:\n    path: nowhere\n".write(toFile: config, atomically: true, encoding: .utf8)
        let check = try DejaBinary.run(["config", "check", config])
        #expect(check.status != 0)
        #expect(check.stderr.contains("embedder.minilm.path: \(dir.path("nowhere")) has no model.safetensors; run `make model`"))
        #expect(check.stderr.split(separator: "\n").count == 1)

        let serve = try DejaBinary.run(["serve", "--config", config])
        #expect(serve.status != 0)
        #expect(serve.stderr.contains("\(dir.path("nowhere"))/model.safetensors: missing; run `make model`"))
        #expect(serve.stderr.split(separator: "\n").count == 1, "\(serve.stderr)")
    }

    @Test("mistakes on the command line: one line naming the file or option and why, a failing status, no files made")
    func commandLineMistakes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let missing = dir.path("missing.yaml")
        let badConfig = dir.path("bad.yaml")
        try "cache:\n  threshold: 1.7\n".write(toFile: badConfig, atomically: true, encoding: .utf8)
        let badImport = dir.path("bad.jsonl")
        try "{\"prompt\": \"hi\", \"answer\": \"hello\"}\n{\"prompt\": 5, \"answer\": \"x\"}\n"
            .write(toFile: badImport, atomically: true, encoding: .utf8)
        let badPartition = dir.path("partition.jsonl")
        try #"{"prompt": "hi", "answer": "hello", "namespace": "team a"}"#.write(toFile: badPartition, atomically: true, encoding: .utf8)
        let pairs = URL(fileURLWithPath: "fixtures/pairs.jsonl").path
        let prompts = URL(fileURLWithPath: "fixtures/prompts.txt").path
        let cases: [(arguments: [String], error: String)] = [
            (["config", "check", missing], "\(missing): cannot read the configuration file: no such file or directory"),
            (["config", "check", dir.url.path], "\(dir.url.path): cannot read the configuration file: is a directory"),
            (["serve", "--config", missing], "Error: \(missing): cannot read the configuration file: no such file or directory"),
            (["serve", "--config", badConfig], "Error: \(badConfig): cache.threshold: must be between 0 and 1, got 1.7"),
            (["serve", "--port", "99999"], "Error: --port must be between 0 and 65535, got 99999"),
            (["mock-upstream", "--port", "70000"], "Error: --port must be between 0 and 65535, got 70000"),
            (["tune", missing], "Error: cannot read \(missing): no such file or directory"),
            (["tune", badConfig], "Error: \(badConfig):1: expected {\"a\": ..., \"b\": ..., \"same\": true|false}"),
            (["tune", pairs, "--write", dir.path("no/deja.yaml")], "Error: --write \(dir.path("no/deja.yaml")): the folder \(dir.path("no")) does not exist"),
            (["cache", "stats"], "Error: there is no cache at deja-cache.sqlite (cache.store): give the gateway's configuration with --config"),
            (["cache", "import", missing], "Error: cannot read \(missing): no such file or directory"),
            (["cache", "import", badImport], "Error: \(badImport):2: prompt: expected a string (Expected to decode String but found number instead.); expected {\"prompt\": ..., \"answer\": ...} or an entry from deja cache export"),
            (["cache", "import", badPartition], "Error: \(badPartition):1: 'namespace' must be 1 to 128 of A-Z a-z 0-9 . _ : -, got 'team a'"),
            (["bench", "embed", "--prompts", missing], "Error: cannot read \(missing): no such file or directory"),
            (["bench", "gateway", "--url", "http://127.0.0.1:1/v1", "--duration", "1", "--prompts", prompts],
             "Error: cannot connect to 127.0.0.1:1: connection refused; is the server running?"),
        ]
        for (arguments, error) in cases {
            let result = try DejaBinary.run(arguments, directory: dir.url.path)
            let command = "deja \(arguments.joined(separator: " "))"
            #expect(result.stderr.split(separator: "\n").first.map(String.init) == error, "\(command)")
            // A wrong option: status 64 and the usage after the line. Anything else: 1, the line alone.
            if error.hasPrefix("Error: --") {
                #expect(result.status == 64, "\(command)")
            } else {
                #expect(result.status == 1, "\(command)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
            }
        }
        let made = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(made == ["bad.jsonl", "bad.yaml", "partition.jsonl"], "the failed commands left \(made)")
    }

    @Test("the help lists every command")
    func help() throws {
        let result = try DejaBinary.run(["--help"])
        for command in ["serve", "mock-upstream", "config", "tune", "cache", "bench"] {
            #expect(result.stdout.contains(command), "\(command) missing from --help")
        }
        let bench = try DejaBinary.run(["bench", "--help"])
        for command in ["index", "embed", "gateway"] { #expect(bench.stdout.contains(command)) }
    }
}
