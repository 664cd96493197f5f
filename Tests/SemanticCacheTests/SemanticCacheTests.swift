import Embedding
import Foundation
import SemanticCache
import Testing
import TestSupport

@Suite("SemanticCache")
struct SemanticCacheTests {
    typealias F = CacheFixture

    @Test("a namespace is scored exactly while small or a small share of the index, searched in the graph otherwise")
    func exactOrGraph() {
        let c = CacheConfiguration()
        #expect(c.scoresExactly(namespaceSize: 1_024, indexSize: 1_024), "at most exact_scan_limit: always")
        #expect(!c.scoresExactly(namespaceSize: 2_000, indexSize: 2_000), "the whole index: the graph")
        #expect(c.scoresExactly(namespaceSize: 4_000, indexSize: 100_000), "4% of 100k: exact (0.40 ms, the graph 0.91)")
        #expect(!c.scoresExactly(namespaceSize: 16_000, indexSize: 100_000), "16% of 100k: the graph (0.09 ms, exact 1.9)")
        #expect(c.scoresExactly(namespaceSize: 15_000, indexSize: 1_000_000))
        #expect(!c.scoresExactly(namespaceSize: 25_000, indexSize: 1_000_000))
        var off = c
        off.exactScanLimit = 0
        #expect(!off.scoresExactly(namespaceSize: 10, indexSize: 1_000_000), "exact_scan_limit 0 turns it off")
    }

    /// Two namespaces whose ids share their top 32 bits share an index tag. A graph search of
    /// one then meets the other's entries; exact scoring reads the namespace's own keys. So the
    /// way a small namespace is scored shows in what a search finds (lookups and searches go
    /// through the same nearest()), and neither way may answer with the other namespace's entries.
    @Test("a small namespace is scored exactly; a tag shared with another costs the graph recall, never isolation",
          arguments: [(2, true), (0, false)])
    func exactScoringInUse(exactScanLimit: Int, exact: Bool) async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.exactScanLimit = exactScanLimit
        let cache = try await fixture.open()
        let mine = Namespace(id: Digest128(high: 0xABCD_EF01_0000_0001, low: 1), label: "acme/gpt-test")
        let theirs = Namespace(id: Digest128(high: 0xABCD_EF01_0000_0002, low: 2), label: "other/gpt-test")
        #expect(mine.tag == theirs.tag)
        func entry(_ ns: Namespace, _ prompt: String) -> CacheEntry {
            CacheEntry(
                namespace: ns, exactKey: Digest128(high: 0, low: 0), prompt: prompt, vector: nil, response: F.answer(prompt),
                model: "gpt-test", createdAt: fixture.clock.now(), expiresAt: nil)
        }
        // Three entries of mine; 200 of theirs, all closer to the question.
        var own: Set<UInt64> = []
        for prompt in ["How do I bake bread?", "What is the weather in Paris?", "Where is my parcel?"] {
            own.insert(try #require(try await cache.restore(entry(mine, prompt))).key)
        }
        for i in 0..<200 {
            _ = try await cache.restore(entry(theirs, "How can I reset my password \(i) times?"))
        }
        // 3 entries of 203: exact by the share rule alone (exact_scan_limit 2), or the graph (0).
        #expect(cache.configuration.scoresExactly(namespaceSize: 3, indexSize: 203) == exact)

        let found = try await cache.search(text: "How can I reset my password?", namespace: mine.id, k: 3)
        #expect(found.allSatisfy { own.contains($0.entry.key) }, "only my namespace's entries")
        #expect(found.count == (exact ? 3 : 0), "\(found.map(\.entry.prompt))")
    }

    @Test("an exact repeat hits exactly, a paraphrase hits semantically, an unrelated prompt misses")
    func hitsAndMisses() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("reset"), model: "gpt-test")

        let exact = try await cache.lookup(F.request("how do I reset my password"))
        #expect(exact.hit?.kind == .exact)
        #expect(exact.hit?.response == F.answer("reset"))

        let paraphrase = try await cache.lookup(F.request("How can I reset my password?"))
        #expect(paraphrase.hit?.kind == .semantic)
        #expect((paraphrase.hit?.similarity ?? 0) >= cache.defaultThreshold)

        let unrelated = try await cache.lookup(F.request("What is the boiling point of water?"))
        #expect(unrelated.hit == nil)
        #expect((unrelated.miss?.bestSimilarity ?? 0) < cache.defaultThreshold)
        #expect(unrelated.miss?.vector?.count == 384)

        let stats = cache.stats
        #expect(stats.hits == 1)
        #expect(stats.semanticHits == 1)
        #expect(stats.misses == 1)
        #expect(stats.entries == 1)
    }

    @Test("the threshold decides: below it a paraphrase misses; a request may raise it but not lower it")
    func threshold() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.threshold = 0.999
        fixture.configuration.thresholds = [ThresholdOverride(match: "acme/loose-*", threshold: 0.5)]
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("r"), model: "gpt-test")
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit == nil)

        try await cache.insert(
            F.request("How do I reset my password?", model: "loose-model"), response: F.answer("r"), model: "loose-model")
        #expect(try await cache.lookup(F.request("How can I reset my password?", model: "loose-model")).hit != nil)
        // A per-request threshold can only raise the configured one.
        let raised = try await cache.lookup(
            F.request("How can I reset my password?", model: "loose-model"), options: .init(threshold: 0.9999))
        #expect(raised.hit == nil)
        let lowered = try await cache.lookup(
            F.request("How can I reset my password?", model: "gpt-test"), options: .init(threshold: 0.1))
        #expect(lowered.hit == nil)
    }

    @Test("the guard refuses different numbers, negations, opposite words, reordered words and empty queries",
          arguments: [
            ("What is the square root of 144?", "What is the square root of 169?", "numbers"),
            ("Convert 100 degrees Fahrenheit to Celsius", "Convert 50 degrees Fahrenheit to Celsius", "numbers"),
            ("How do I enable notifications?", "How do I not enable notifications?", "negation"),
            ("Turn on dark mode", "Turn off dark mode", "opposite_words"),
            ("Why does my laptop boot faster?", "Why does my laptop boot slower?", "opposite_words"),
            ("Convert JSON to YAML", "Convert YAML to JSON", "word_order"),
            ("Does the cat chase the dog?", "Does the dog chase the cat?", "word_order"),
            ("Why do men earn more than women?", "Why do women earn more than men?", "word_order"),
          ])
    func guardRefuses(cached: String, query: String, code: String) async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.threshold = 0.3
        let cache = try await fixture.open()
        try await cache.insert(F.request(cached), response: F.answer("x"), model: "gpt-test")
        let result = try await cache.lookup(F.request(query))
        #expect(result.hit == nil, "\(query) must not hit \(cached)")
        #expect(result.miss?.rejection?.code == code)

        // The same pair passes with the guard off: the guard, not the threshold, refused it.
        var off = fixture
        off.configuration.guardChecks = GuardConfiguration(numbers: false, negation: false, wordOrder: false, emptyQuery: false)
        let unguarded = try await off.open()
        #expect(try await unguarded.lookup(F.request(query)).hit != nil)
    }

    /// Only roles swapped across other words change a question; a compound said the other way
    /// round does not ("a branch in git" / "a git branch").
    @Test("reordered words: swapped roles are refused, compounds said the other way round pass", arguments: [
        ("How do I create a new branch in git?", "How can I create a new git branch?", false),
        ("How do I restart a deployment in Kubernetes?", "How can I restart a Kubernetes deployment?", false),
        ("How does HTTPS encryption work?", "How does the encryption in HTTPS work?", false),
        ("Is 97 a prime number?", "Is the number 97 prime?", false),
        ("Flights from Paris to London", "Flights from London to Paris", true),
        ("Replace tabs with spaces", "Replace spaces with tabs", true),
        ("Is Python faster than Java?", "Is Java faster than Python?", true),
    ])
    func wordOrder(a: String, b: String, refused: Bool) {
        let check = FalsePositiveGuard().check(query: PromptFeatures(b), candidate: PromptFeatures(a))
        #expect((check == .wordOrderDiffers) == refused, "\(a) / \(b): \(String(describing: check))")
        let reverse = FalsePositiveGuard().check(query: PromptFeatures(a), candidate: PromptFeatures(b))
        #expect((reverse == .wordOrderDiffers) == refused, "\(b) / \(a): the same both ways")
    }

    @Test("a prompt longer than guard.max_words hits only exactly, and is stored without a vector")
    func longPrompts() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let words = (1...40).map { "The report covers sales figures for region \($0) in great detail" }.joined(separator: ". ")
        let long = "Summarise this report. " + words + ". Focus on the northern stores."
        let edited = "Summarise this report. " + words + ". Focus on the southern stores."
        let cache = try await fixture.open()
        let entry = try await cache.insert(F.request(long), response: F.answer("x"), model: "gpt-test")
        #expect(entry.vector == nil)
        #expect(try await cache.lookup(F.request(long)).hit?.kind == .exact)
        let miss = try #require(try await cache.lookup(F.request(edited)).miss)
        #expect(miss.rejection?.code == "too_long")

        // Without the limit, the edit is found by similarity: what the limit prevents.
        fixture.configuration.guardChecks.maxWords = 0
        try await cache.close()
        let unlimited = try await fixture.open()
        try await unlimited.insert(F.request(long), response: F.answer("x"), model: "gpt-test")
        let hit = try await unlimited.lookup(F.request(edited)).hit
        #expect(hit?.kind == .semantic)
        #expect((hit?.similarity ?? 0) > 0.95)
    }

    @Test("numbers are compared in one spelling: separators, trailing and leading zeros, words, other scripts",
          arguments: [
            ("Split 3,000 dollars", ["3000"]), ("Split 3,000.50 dollars", ["3000.5"]), ("add 2,5 litres", ["2.5"]),
            ("costs 2.50 or 2.5", ["2.5", "2.5"]), ("agent 007, room 0.50", ["7", "0.5"]), ("1,234,567 rows", ["1234567"]),
            ("version 10.0.", ["10"]), ("from 1..2", ["1", "2"]), ("in 3, then 4", ["3", "4"]), ("no digits", []),
            ("twelve eggs and 3 apples", ["3", "12"]), ("الغرفة ٣٠٠", ["300"]), ("room ٣,٠٠٠ ok", ["3000"]),
            ("in two steps: 1) build it, 2) ship it", ["2"]), ("Steps:\n1. build\n 2. ship 3.5 GB", ["3.5"]),
            ("(1) ٣ rooms", ["3"]), ("version 2.1. Then x3) and (10 ms)", ["2.1", "3", "10"]),
            ("two thousand rows", ["2000"]), ("a dozen eggs", ["12"]), ("several thousand files", []),
            ("thousands of files", []),
          ])
    func numberSpelling(text: String, numbers: [String]) {
        #expect(PromptFeatures(text).numbers == numbers)
    }

    @Test("an abbreviation matches the capitalised words it abbreviates, a name its longer spelling; other names differ",
          arguments: [
            ("What is Machine Learning used for?", "What is ML used for?", true),
            ("How do I reduce my AWS bill?", "How do we spend less on Amazon Web Services?", true),
            ("Tune PostgreSQL for writes", "Tune Postgres for writes", true),
            ("Do I need a visa for Japan when I live in the United States?", "Do I need a visa for Japan if I live in the US?", true),
            ("Is code written in Python faster than code in Go?", "Is code written in Java faster than code in Go?", false),
            ("How do we deploy the service to AWS?", "How do we deploy the service to Google Cloud Platform?", false),
          ])
    func abbreviatedNames(a: String, b: String, same: Bool) {
        let (left, right) = PromptFeatures.unmatchedNames(PromptFeatures(a), PromptFeatures(b))
        #expect((left.isEmpty && right.isEmpty) == same, "\(a) / \(b): \(left) / \(right)")
        let reverse = PromptFeatures.unmatchedNames(PromptFeatures(b), PromptFeatures(a))
        #expect(reverse.0 == right && reverse.1 == left)
    }

    /// Stored entries carry these keys, so their spelling must not change between versions.
    @Test("digests print as 32 hex digits; the exact key hashes the namespace's digits and the normalised prompt")
    func keySpelling() throws {
        let d = Digest128(high: 0x0123_4567_89ab_cdef, low: 0xf)
        #expect(d.description == "0123456789abcdef000000000000000f")
        #expect(Digest128(hex: d.description) == d)
        let request = F.request("  How do I reset my PASSWORD?? ")
        let ns = request.namespace(shared: false)
        let expected = Digest128(hashing: Array((ns.id.description + "\nhow do i reset my password").utf8))
        #expect(request.exactKey(in: ns) == expected)
        // SHA-256 of the canonical JSON {"context":{"messages":[{"content":"You are \"helpful\".",
        // "role":"system"}],"temperature":0.0},"model":"gpt-test","tenant":"acme"}, by Python's hashlib.
        let pinned = F.request("x", system: #"You are "helpful"."#).namespace(shared: false)
        #expect(pinned.id.description == "fbfddfcde60be915ce4970a256c38a30")
    }

    @Test("an empty or function-word-only query never hits by similarity")
    func emptyQueries() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.threshold = 0.0
        let cache = try await fixture.open()
        try await cache.insert(F.request("What is it?"), response: F.answer("x"), model: "gpt-test")
        for query in ["", "   ", "what is this?", "hello"] {
            let result = try await cache.lookup(F.request(query))
            #expect(result.hit == nil, "'\(query)'")
            #expect(["empty_query", "only_function_words"].contains(result.miss?.rejection?.code ?? ""))
        }
        // An exact repeat still hits: the guard only applies to similarity.
        #expect(try await cache.lookup(F.request("What is it?")).hit?.kind == .exact)
    }

    @Test("namespaces are isolated: other tenant, system prompt, parameters, model or partition never hit")
    func isolation() async throws {
        let fixture = try F()
        defer { fixture.directory.remove() }
        let cache = try await fixture.open()
        let prompt = "How do I reset my password?"
        try await cache.insert(F.request(prompt), response: F.answer("acme"), model: "gpt-test")
        #expect(try await cache.lookup(F.request(prompt)).hit != nil)
        #expect(try await cache.lookup(F.request(prompt, tenant: "globex")).hit == nil)
        #expect(try await cache.lookup(F.request(prompt, system: "You are a pirate.")).hit == nil)
        #expect(try await cache.lookup(F.request(prompt, temperature: 0.9)).hit == nil)
        #expect(try await cache.lookup(F.request(prompt, model: "gpt-other")).hit == nil)
        var partitioned = F.request(prompt)
        partitioned.partition = "team-b"
        #expect(try await cache.lookup(partitioned).hit == nil)
        // The other tenant's own entry is served to it, and never to acme.
        try await cache.insert(F.request(prompt, tenant: "globex"), response: F.answer("globex"), model: "gpt-test")
        #expect(try await cache.lookup(F.request(prompt, tenant: "globex")).hit?.response == F.answer("globex"))
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit?.response == F.answer("acme"))
    }

    @Test("a namespace shared by configuration serves every tenant")
    func sharedNamespace() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.sharedNamespaces = ["faq-*"]
        let cache = try await fixture.open()
        try await cache.insert(F.request("What are your opening hours?", model: "faq-bot"), response: F.answer("9-5"), model: "faq-bot")
        #expect(try await cache.lookup(F.request("What are your opening hours?", model: "faq-bot", tenant: "other")).hit != nil)
        #expect(cache.namespace(for: F.request("x", model: "faq-bot")).label == "shared/faq-bot")
    }

    @Test("a large namespace is searched through the graph with its tag, a small one scored exactly")
    func largeNamespace() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.exactScanLimit = 10
        let cache = try await fixture.open()
        let lines = try String(contentsOfFile: "fixtures/prompts.txt", encoding: .utf8).split(separator: "\n").prefix(60)
        for (i, line) in lines.enumerated() {
            try await cache.insert(F.request(String(line), tenant: i % 2 == 0 ? "acme" : "globex"),
                                   response: F.answer("\(i)"), model: "gpt-test")
        }
        for (i, line) in lines.enumerated().prefix(20) {
            let result = try await cache.lookup(F.request(String(line) + " Thanks!", tenant: "acme"))
            if i % 2 == 0 {
                #expect(result.hit?.response == F.answer("\(i)"), "\(line)")
            } else {
                #expect(result.hit?.response != F.answer("\(i)"), "globex's entry served to acme")
            }
        }
    }
}

@Suite("SemanticCache concurrency")
struct CacheConcurrencyTests {
    typealias F = CacheFixture

    /// Lookups from many tasks while others insert: no crash, no race (run under
    /// --sanitize=thread), every exact hit is the answer stored for its own prompt. The pairs
    /// log is on, small enough to fill up during the run.
    @Test("concurrent lookups and inserts")
    func concurrent() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        let pairs = fixture.directory.path("pairs.jsonl")
        fixture.configuration.pairsLog = PairsLogConfiguration(file: pairs, band: 0.5, maxPairs: 20)
        let cache = try await fixture.open()
        let prompts = try String(contentsOfFile: "fixtures/prompts.txt", encoding: .utf8)
            .split(separator: "\n").prefix(120).map(String.init)
        for p in prompts.prefix(40) { try await cache.insert(F.request(p), response: F.answer(p), model: "gpt-test") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for (i, p) in prompts.enumerated() where i % 4 == worker {
                        if case .hit(let hit) = try await cache.lookup(F.request(p)), hit.kind == .exact {
                            #expect(hit.response == F.answer(p))
                        }
                    }
                }
            }
            group.addTask {
                for p in prompts[40...] { try await cache.insert(F.request(p), response: F.answer(p), model: "gpt-test") }
            }
            group.addTask { _ = try await cache.maintain() }
            try await group.waitForAll()
        }
        #expect(cache.stats.entries == prompts.count)
        for p in prompts { #expect(try await cache.lookup(F.request(p)).hit?.kind == .exact) }
        try await cache.close()
        let lines = try String(contentsOfFile: pairs, encoding: .utf8).split(separator: "\n")
        #expect(lines.count <= 20)
    }
}
