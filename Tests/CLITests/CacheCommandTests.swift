import Foundation
import SemanticCache
import Testing
import TestSupport

@Suite("deja cache and deja tune")
struct CacheCommandTests {
    static func config(_ dir: TemporaryDirectory) throws -> String {
        let path = dir.path("deja.yaml")
        try """
            # test configuration
            cache:
              store: cache.sqlite   # relative to this file
              index_file: cache.hnsw
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An insert that returned must survive `kill -9` right after: `deja cache import` prints
    /// "stored KEY" only once the entry is committed, and the test kills it mid-import.
    @Test("an acknowledged insert survives kill -9")
    func killNine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config(dir)
        let entries = (0..<2_000).map { i in
            #"{"prompt": "Question \#(i): how do I configure feature \#(i) in the product?", "answer": "Answer \#(i)."}"#
        }
        try entries.joined(separator: "\n").write(toFile: dir.path("entries.jsonl"), atomically: true, encoding: .utf8)
        let (process, output) = try DejaBinary.start(["cache", "import", dir.path("entries.jsonl"), "--config", config])
        var acknowledged: [UInt64] = []
        var buffer = ""
        while acknowledged.count < 25 {
            let data = output.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            while let newline = buffer.firstIndex(of: "\n") {
                let line = buffer[..<newline]
                buffer.removeSubrange(...newline)
                if line.hasPrefix("stored "), let key = UInt64(line.dropFirst(7)) { acknowledged.append(key) }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(acknowledged.count >= 25)

        let store = try SQLiteCacheStore(path: dir.path("cache.sqlite"))
        let stored = Set(try runBlocking { try await store.summaries().map(\.key) })
        for key in acknowledged { #expect(stored.contains(key), "acknowledged entry \(key) was lost") }
        #expect(stored.count < 2_000, "the import was cut short")
        // The killed process's lock on the store went with it.
        let stats = try DejaBinary.run(["cache", "stats", "--config", config])
        #expect(stats.status == 0, "\(stats.stderr)")
    }

    @Test("deja tune reports the fixtures and writes the recommended threshold into a config, keeping comments")
    func tune() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config(dir)
        let result = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--write", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ROC AUC"))
        #expect(result.stdout.contains("recommended threshold"))
        let text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(text.contains("# test configuration"))
        #expect(text.contains("store: cache.sqlite   # relative to this file"))
        #expect(text.contains("  threshold: 0."))

        let bad = try DejaBinary.run(["tune", dir.path("missing.jsonl")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("missing.jsonl"))
    }

    @Test("deja tune --train writes a verifier that a configuration then uses, and reports what each feature buys")
    func tuneTrain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let model = dir.path("verifier.json")
        let result = try DejaBinary.run(["tune", "fixtures/verifier-pairs.jsonl", "--train", "--output", model])
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["on the held-out pairs:", "ROC AUC", "calibration", "without each feature (retrained)", "numbers_differ"] {
            #expect(result.stdout.contains(line), "\(line) is reported")
        }
        let written = try VerifierModel.load(path: model)
        #expect(written.embedder.hasPrefix("hashing-v1"))
        #expect(written.training?.heldOutPairs ?? 0 > 1000, "judged on the held-out split")
        // The file, named by the configuration, decides: the same figures as --verifier FILE.
        let config = dir.path("deja.yaml")
        try "cache:\n  verifier:\n    model: verifier.json\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try DejaBinary.run(["config", "check", config]).status == 0)
        let configured = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--config", config])
        let named = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--verifier", model])
        #expect(configured.status == 0 && named.status == 0, "\(configured.stderr) \(named.stderr)")
        #expect(configured.stdout == named.stdout)
        // A model of another embedder is refused in one line.
        let other = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--embedder", "minilm", "--verifier", model])
        #expect(other.status != 0)
        #expect(other.stderr.contains("hashing-v1"), "\(other.stderr)")
    }

    /// The issue's bar for verification: on the labelled pairs replayed as traffic, the error rate
    /// stays under the target and more is served than at the best static threshold that meets it.
    @Test("deja tune --replay: per-entry verification keeps the error rate under the target and beats the best static threshold")
    func tuneReplay() throws {
        let result = try DejaBinary.run(["tune", "fixtures/verifier-pairs.jsonl", "--embedder", "minilm", "--replay", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Outcome: Decodable { var threshold: Double; var requests: Int; var served: Int; var wrong: Int; var verified: Int }
        struct Report: Decodable { var bestStatic: Outcome?; var verified: [Outcome] }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        let best = try #require(report.bestStatic)
        #expect(Double(best.wrong) / Double(best.requests) <= 0.02)
        let shipped = try #require(report.verified.last, "the row at the model's own threshold")
        #expect(Double(shipped.wrong) / Double(shipped.requests) <= 0.02, "error rate \(shipped.wrong) of \(shipped.requests)")
        #expect(shipped.served > best.served, "served \(shipped.served), the best static threshold \(best.served)")
        #expect(shipped.verified > 0)
    }

    @Test("deja tune --model writes one route's threshold, which the cache then applies to that model only")
    func tunePerModel() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.path("deja.yaml")
        try """
            providers:
              mock:
                base_url: http://127.0.0.1:9/v1
            models:
              support-bot:   # the help desk
                provider: mock
              "*":
                provider: mock
            cache:
              threshold: 0.8
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--config", config, "--model", "support-bot",
                                         "--precision", "0.9", "--write", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(configured)"), "the model's current threshold is marked")
        #expect(result.stdout.contains("wrote models.support-bot.threshold: 0."))
        let text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(text.contains("  support-bot:   # the help desk\n    threshold: 0."))
        #expect(text.hasSuffix("cache:\n  threshold: 0.8"), "the global threshold is left alone")
        let check = try DejaBinary.run(["config", "check", config])
        #expect(check.status == 0, "\(check.stderr)")

        let missing = try DejaBinary.run(["tune", "fixtures/pairs.jsonl", "--config", config, "--model", "no-such-model",
                                          "--write", config])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("models.no-such-model"), "\(missing.stderr)")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == text, "a failed write changes nothing")
    }
}

/// Runs async work from a synchronous test.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.value!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
