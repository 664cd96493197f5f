import DejaSupport
import Embedding
import Foundation
import SemanticCache
import Testing
import TestSupport
import VectorIndex

/// The learned verifier: training, its file, what a feature switched off changes, and the
/// decision it makes in a lookup.
@Suite("Verifier")
struct VerifierTests {
    typealias F = CacheFixture

    /// A few labelled pairs of the fixture file, as one cache, with the hashing embedder.
    static func pairs(_ count: Int = 400) async throws -> PairsInCache {
        let all = try LabelledPair.load(jsonl: "fixtures/verifier-pairs.jsonl").filter { $0.split == "train" }
        return try await PairsInCache.build(Array(all.prefix(count)), embedder: try HashingEmbedder())
    }

    @Test("the same pairs train the same model, and a saved model reads back equal")
    func deterministicAndRoundTrip() async throws {
        let pairs = try await Self.pairs()
        let first = VerifierTuner.train(pairs, heldOut: nil, seed: 7, ablation: false).model
        let second = VerifierTuner.train(pairs, heldOut: nil, seed: 7, ablation: false).model
        #expect(first == second)
        #expect(first.weights.count == first.features.count && !first.weights.isEmpty)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TextFile.write(String(decoding: first.jsonData, as: UTF8.self), to: dir.path("m.json"))
        #expect(try VerifierModel.load(path: dir.path("m.json")) == first)
    }

    @Test("a weight never counts a difference for a match: every difference weighs against one")
    func signs() async throws {
        let model = VerifierTuner.train(try await Self.pairs(), heldOut: nil, ablation: false).model
        for (i, feature) in model.features.enumerated() {
            if let sign = feature.expectedSign { #expect(model.weights[i] * sign >= 0, "\(feature)") }
        }
    }

    @Test("one word swapped and two words exchanged are told apart, with repeated words and in prompts of over 64 content words")
    func swappedAndReordered() {
        func value(_ feature: VerifierFeature, _ a: String, _ b: String) -> Double {
            VerifierFeature.values(query: PromptFeatures(a), candidate: PromptFeatures(b), similarity: 0.9, competitor: nil,
                                   floor: 0.5)[feature.index]
        }
        let cases: [(String, String, swapped: Double, order: Double)] = [
            ("restart a pod in kubernetes", "restart a node in kubernetes", 1, 0),
            ("convert JSON to YAML quickly", "convert YAML to JSON quickly", 0, 1),
            ("convert JSON to YAML quickly", "convert JSON to YAML quickly", 0, 0),
            ("copy file file backup", "copy file backup backup", 1, 0),
            ("copy file file backup", "copy backup file file", 0, 0),
            ("copy file backup", "move disk archive", 0, 0),
        ]
        for c in cases {
            #expect(value(.wordSwapped, c.0, c.1) == c.swapped, "\(c.0) / \(c.1)")
            #expect(value(.wordOrder, c.0, c.1) == c.order, "\(c.0) / \(c.1)")
        }
        // Beyond 64 content words the count takes another path; the answer is the same.
        let long = (0..<70).map { "word\($0)x" }
        var swapped = long
        swapped[40] = "different"
        #expect(value(.wordSwapped, long.joined(separator: " "), swapped.joined(separator: " ")) == 1)
        #expect(value(.wordSwapped, long.joined(separator: " "), long.joined(separator: " ")) == 0)
        // Only the features asked for are computed; the rest stay 0.
        let only = VerifierFeature.values(
            query: PromptFeatures("restart a pod"), candidate: PromptFeatures("restart a node"), similarity: 0.9,
            competitor: nil, floor: 0.5, features: [.similarity])
        #expect(only[VerifierFeature.similarity.index] == Double(Float(0.9)) && only[VerifierFeature.wordSwapped.index] == 0)
    }

    @Test("a feature switched off no longer moves the probability, and nothing else changes")
    func featureOff() throws {
        let model = try #require(VerifierModel.builtIn.first)
        let off = model.without(.numbersDiffer)
        #expect(off.features == model.features.filter { $0 != .numbersDiffer })
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            var values = VerifierFeature.allCases.map { _ in Double(rng.next() % 1000) / 1000 }
            let p = off.probability(values)
            values[VerifierFeature.numbersDiffer.index] = values[VerifierFeature.numbersDiffer.index] == 0 ? 1 : 0
            #expect(off.probability(values) == p, "the switched-off feature still counts")
            // The other features weigh what they weighed: only the switched-off term is gone.
            for (i, f) in off.features.enumerated() {
                let j = try #require(model.features.firstIndex(of: f))
                #expect(off.weights[i] == model.weights[j] && off.mean[i] == model.mean[j] && off.scale[i] == model.scale[j])
            }
        }
    }

    @Test("the models compiled in are the files in models/")
    func builtInModels() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: "models").filter { $0.hasPrefix("verifier-") }.sorted()
        #expect(files == ["verifier-hashing.json", "verifier-minilm.json"])
        #expect(VerifierModel.builtIn.count == files.count)
        for file in files {
            let model = try VerifierModel.load(path: "models/\(file)")
            #expect(VerifierModel.builtIn.contains(model), "\(file) differs from the compiled-in copy: run models/make_builtin_verifiers.py")
        }
        let hashing = try HashingEmbedder().identity
        #expect(VerifierModel.builtIn.first { $0.embedder == hashing } != nil, "the default embedder has one")
    }

    /// The most probable candidate is judged, alone: when it is refused, a less similar one is
    /// not tried, although the guard of old would have let it through.
    @Test("a refused best candidate never lets a weaker one through")
    func noFallThrough() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.verifier = VerifierSettings(enabled: true)
        fixture.configuration.threshold = 0.5
        let cache = try await fixture.open()
        try await cache.insert(F.request("How do I turn on dark mode?"), response: F.answer("on"), model: "gpt-test")
        try await cache.insert(F.request("Where do I change the app's colour theme?"), response: F.answer("theme"), model: "gpt-test")
        let result = try await cache.lookup(F.request("How do I turn off dark mode?"))
        #expect(result.hit == nil, "\(result)")
        #expect(result.miss?.rejection?.code == "unlikely")
        #expect(result.miss?.rejection?.description.contains("opposite words") == true)
        let paraphrase = try await cache.lookup(F.request("How can I turn on dark mode?"))
        #expect(paraphrase.hit?.kind == .semantic && paraphrase.hit?.probability ?? 0 >= 0.5)
    }

    /// The same without a verifier: the guard refuses the most similar candidate, and the next
    /// one, above the threshold too, is not tried (it used to be, and served).
    @Test("without a verifier too, only the most similar candidate is judged")
    func noFallThroughCosine() async throws {
        let fixture = try F()  // verifier off: the cosine and the guard
        defer { fixture.directory.remove() }
        var configuration = fixture.configuration
        configuration.threshold = 0.3
        let cache = try await SemanticCache.open(
            configuration: configuration, embedder: try HashingEmbedder(), store: try SQLiteCacheStore(path: fixture.storePath),
            clock: fixture.clock)
        try await cache.insert(F.request("How do I turn on dark mode?"), response: F.answer("on"), model: "gpt-test")
        try await cache.insert(F.request("How do I switch to dark mode at night?"), response: F.answer("night"), model: "gpt-test")
        let query = F.request("How do I turn off dark mode?")
        let ranked = try await cache.search(text: "How do I turn off dark mode?", k: 2)
        #expect(ranked.count == 2 && ranked[1].similarity >= 0.3, "both candidates are above the threshold: \(ranked.map(\.similarity))")
        let result = try await cache.lookup(query)
        #expect(result.hit == nil, "the second candidate was served: \(result)")
        #expect(result.miss?.rejection?.code == "opposite_words")
    }

    /// An entry found wrong for a prompt raises its own threshold above it; other entries keep theirs.
    @Test("feedback raises one entry's threshold and no other's; an entry wrong often enough is retired")
    func feedback() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.verifier = VerifierSettings(enabled: true)
        fixture.configuration.retireAfter = 2
        let cache = try await fixture.open()
        let reset = try await cache.insert(F.request("How do I reset my password?"), response: F.answer("reset"), model: "gpt-test")
        let other = try await cache.insert(F.request("How do I delete my account?"), response: F.answer("delete"), model: "gpt-test")
        let hit = try #require(try await cache.lookup(F.request("How can I reset my password?")).hit)
        let judged = try #require(try await cache.judge(entry: hit.key, similarity: hit.similarity, probability: hit.probability, correct: false))
        #expect(judged.trust.minProbability == hit.probability && !judged.retired)
        #expect(try await cache.lookup(F.request("How can I reset my password?")).hit == nil, "the same prompt no longer hits it")
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit?.kind == .exact, "an exact repeat still does")
        #expect(try await cache.lookup(F.request("How can I delete my account?")).hit?.key == other.key, "other entries keep theirs")
        let stored = try await cache.store.summaries().first { $0.key == reset.key }
        #expect(stored?.trust.wrongHits == 1 && stored?.trust.minProbability == hit.probability, "the threshold is durable")
        // A tenant's verdict names its namespace: another namespace's entry is left alone.
        let foreign = try await cache.judge(entry: other.key, similarity: 0.9, correct: false, namespace: Digest128(high: 1, low: 2))
        #expect(foreign == nil)
        #expect(try await cache.store.summaries().first { $0.key == other.key }?.trust.wrongHits == 0)
        // Wrong a second time: retired, and served no more, exactly or not.
        #expect(try await cache.judge(entry: reset.key, similarity: 1, correct: false)?.retired == true)
        #expect(try await cache.lookup(F.request("How do I reset my password?")).hit == nil)
        #expect(try await cache.entry(key: reset.key) == nil)
    }

    /// With a target error rate, would-be hits of an unproven entry are verified, at a share that
    /// falls as the entry is found right; exact hits never are.
    @Test("verification sampling respects its rate and never samples an exact hit")
    func verificationRate() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.verifier = VerifierSettings(enabled: true)
        fixture.configuration.targetErrorRate = 0.02
        let draws = Mutex<SplitMix64>(SplitMix64(seed: 11))
        let cache = try await fixture.open(random: { draws.withLock { Double($0.next() >> 11) / Double(1 << 53) } })
        try await cache.insert(F.request("How do I reset my password?"), response: F.answer("reset"), model: "gpt-test")
        let exact = LookupOptions(verification: true)
        for _ in 0..<50 { #expect(try await cache.lookup(F.request("How do I reset my password?"), options: exact).hit?.verify == false) }
        // A paraphrase above the threshold on a new entry: verified at the share its probability gives.
        let prompt = F.request("How can I reset my password?")
        let first = try #require(try await cache.lookup(prompt, options: exact).hit)
        let p = try #require(first.probability)
        let policy = VerificationPolicy(threshold: Double(cache.defaultThreshold), target: 0.02)
        let expected = p >= policy.threshold ? max(0, (1 - p - 0.02) / (1 - p)) : 1
        #expect(expected > 0.1 && expected < 0.95, "a share worth measuring (probability \(p))")
        var verified = 0
        let tries = 400
        for _ in 0..<tries where try await cache.lookup(prompt, options: exact).hit?.verify == true { verified += 1 }
        let share = Double(verified) / Double(tries)
        #expect(abs(share - expected) < 0.08, "verified \(share) of would-be hits, the policy says \(expected)")
        // Without verification asked for (the lookup API), never.
        #expect(try await cache.lookup(prompt).hit?.verify == false)
        // Found right: the entry's expected error halves (the verifier's 1 − p counts as one
        // verdict beside it), and so does the share verified, less the target.
        _ = try await cache.judge(entry: first.key, similarity: first.similarity, probability: p, correct: true, source: .verification)
        let error = (1 - p) / 2
        let fewer = max(0, (error - 0.02) / error)
        verified = 0
        for _ in 0..<tries where try await cache.lookup(prompt, options: exact).hit?.verify == true { verified += 1 }
        #expect(abs(Double(verified) / Double(tries) - fewer) < 0.08, "verified \(verified) of \(tries), the policy says \(fewer)")
        #expect(fewer < expected - 0.1)
        #expect(cache.stats.verdicts.verificationsAgreed == 1)
    }
}
