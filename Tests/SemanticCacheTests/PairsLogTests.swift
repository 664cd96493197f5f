import DejaSupport
import Foundation
import SemanticCache
import Testing
import TestSupport

/// `cache.pairs_log`: the pairs the cache had to judge, written for labelling and `deja tune`.
@Suite("Pairs log")
struct PairsLogTests {
    typealias F = CacheFixture

    static func lines(_ path: String) throws -> [JSONValue] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
    }

    @Test("semantic hits and near misses are written once each, with same: null; exact hits and far misses are not")
    func writesPairs() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let path = fixture.directory.path("pairs.jsonl")
        fixture.configuration.pairsLog = PairsLogConfiguration(file: path, band: 0.1, maxPairs: 100)
        fixture.configuration.threshold = 0.6  // the hashing embedder puts the numbers pair below 0.8
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        try await cache.insert(
            F.request("Convert 100 degrees Fahrenheit to Celsius"), response: F.answer("b"), model: "gpt-test")

        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit?.kind == .semantic)
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit?.kind == .semantic)  // written once
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit?.kind == .exact)
        let refused = try await cache.lookup(F.request("Convert 50 degrees Fahrenheit to Celsius"))
        #expect(refused.miss?.rejection != nil)
        #expect(try await cache.lookup(F.request("What is the capital of France?")).hit == nil)
        try await cache.close()

        let lines = try Self.lines(path)
        #expect(lines.count == 2, "\(lines)")
        let hit = lines[0]
        #expect(hit["a"]?.stringValue == "How do I reset my password?")
        #expect(hit["b"]?.stringValue == "How can I reset my password?")
        #expect(hit["same"]?.isNull == true)
        #expect(hit["served"]?.boolValue == true)
        #expect(hit["model"]?.stringValue == "gpt-test")
        #expect((hit["similarity"]?.doubleValue ?? 0) >= 0.8)
        let miss = lines[1]
        #expect(miss["b"]?.stringValue == "Convert 50 degrees Fahrenheit to Celsius")
        #expect(miss["served"]?.boolValue == false)
        #expect(miss["refused"]?.stringValue?.contains("numbers differ") == true)
        // Prompt text on disk: its owner's only.
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Not labelled yet: deja tune says so; once some are, it reads those and counts the rest.
        #expect {
            try LabelledPair.read(jsonl: path)
        } throws: { error in
            (error as? CacheError)?.description.contains("holds no labelled pairs yet") == true
        }
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: #""same": null"#, with: #""same": true"#, options: [], range: text.range(of: #""same": null"#))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try LabelledPair.read(jsonl: path)
        #expect(file.pairs == [LabelledPair(a: "How do I reset my password?", b: "How can I reset my password?", same: true)])
        #expect(file.unlabelled == 1)
        #expect(try LabelledPair.read(jsonl: path, model: "gpt-test").pairs.count == 1)
        #expect(throws: CacheError.self) { try LabelledPair.read(jsonl: path, model: "another-model") }
    }

    @Test("the file stops growing at max_pairs, across restarts")
    func maxPairs() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let path = fixture.directory.path("pairs.jsonl")
        fixture.configuration.pairsLog = PairsLogConfiguration(file: path, band: 0.5, maxPairs: 3)
        var cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("a"), model: "gpt-test")
        for variant in ["How can I reset my password?", "How do I reset my password now?"] {
            _ = try await cache.lookup(F.request(variant))
        }
        try await cache.close()
        #expect(try Self.lines(path).count == 2)
        cache = try await fixture.open()
        for variant in ["How could I reset my password?", "Where do I reset my password?", "Can I reset my password?"] {
            _ = try await cache.lookup(F.request(variant))
        }
        try await cache.close()
        #expect(try Self.lines(path).count == 3)
    }

    @Test("band and max_pairs are checked")
    func validation() {
        var c = CacheConfiguration()
        c.pairsLog = PairsLogConfiguration(file: "p.jsonl", band: 2, maxPairs: 0)
        #expect(c.problems == [
            "cache.pairs_log.band: must be between 0 and 1, got 2.0", "cache.pairs_log.max_pairs: must be at least 1, got 0",
        ])
    }
}
