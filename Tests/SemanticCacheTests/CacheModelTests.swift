import Embedding
import Foundation
import SemanticCache
import Testing
import TestSupport
import VectorIndex

/// The cache driven by a seeded random mix of inserts (some replacing), deletes, purges, lookups,
/// time passing, upkeep and restarts, checked after every step against a plain model of what it
/// holds. The catalog, the index and the SQLite store each keep part of the truth; a step that
/// updates one and not the others shows up here as a served answer that should be gone, an
/// entry counted that nobody holds, or an answer served across tenants.
@Suite("SemanticCache against a model")
struct CacheModelTests {
    typealias F = CacheFixture

    /// What the model knows of an entry.
    struct Held {
        var tenant: String
        var prompt: String
        var expiresAt: Date?
    }

    static let prompts = [
        "How do I reset my password?", "How can I reset my password?", "How do I reset my password",
        "What is the capital of France?", "What is the capital city of France?", "Which city is the capital of France?",
        "How do I cancel my subscription?", "How can I cancel my subscription?", "How do I upgrade my plan?",
        "What are your opening hours?", "When are you open?", "Do you ship internationally?",
        "Turn on dark mode", "Turn off dark mode", "What is 2+2?", "What is 3+3?", "Convert JSON to YAML",
        "Convert YAML to JSON", "Is coffee good for you?", "Is coffee not good for you?",
    ]
    static let tenants = ["acme", "globex", "initech"]

    @Test("served answers, counts and restarts agree with a model through 1,000 random steps")
    func randomOperations() async throws {
        var fixture = try F()
        defer { fixture.directory.remove() }
        fixture.configuration.ttl = 40
        fixture.configuration.maxEntries = 25
        var cache = try await fixture.open()
        var model: [UInt64: Held] = [:]
        var rng = SplitMix64(seed: 1129)
        var hits = (exact: 0, semantic: 0)

        func request(_ tenant: String, _ prompt: String) -> CacheRequest { F.request(prompt, tenant: tenant) }
        func isLive(_ held: Held) -> Bool { held.expiresAt.map { $0 > fixture.clock.now() } ?? true }
        func same(_ a: String, _ b: String) -> Bool {
            CacheRequest.normalizeForExactMatch(a) == CacheRequest.normalizeForExactMatch(b)
        }

        for step in 0..<1_000 {
            let tenant = Self.tenants.randomElement(using: &rng)!
            let prompt = Self.prompts.randomElement(using: &rng)!
            let held = model.count
            var mayEvict = false
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<35:
                let ttl: Double? = [nil, nil, 5, 0].randomElement(using: &rng)!
                let entry = try await cache.insert(
                    request(tenant, prompt), response: F.answer("\(tenant):\(prompt)"), model: "gpt-test", ttl: ttl)
                // The same request again ("?" at the end or not) replaces the entry it had.
                model = model.filter { !($0.value.tenant == tenant && same($0.value.prompt, prompt)) }
                let seconds = ttl ?? fixture.configuration.ttl
                model[entry.key] = Held(tenant: tenant, prompt: prompt,
                                        expiresAt: seconds > 0 ? entry.createdAt + seconds : nil)
                mayEvict = held >= fixture.configuration.maxEntries
            case 35..<70:
                let options = LookupOptions(semantic: Bool.random(using: &rng))
                let result = try await cache.lookup(request(tenant, prompt), options: options)
                if let hit = result.hit {
                    let held = model[hit.key]
                    #expect(held != nil, "step \(step): served \(hit.key), which the model does not hold")
                    #expect(held?.tenant == tenant, "step \(step): served another tenant's answer")
                    #expect(held.map(isLive) == true, "step \(step): served an expired answer")
                    #expect(hit.response == F.answer("\(held?.tenant ?? ""):\(held?.prompt ?? "")"))
                    if hit.kind == .exact { hits.exact += 1 } else { hits.semantic += 1 }
                }
                // A live entry for this very request is an exact hit.
                if let (key, mine) = model.first(where: { $0.value.tenant == tenant && same($0.value.prompt, prompt) }),
                   isLive(mine)
                {
                    #expect(result.hit?.key == key && result.hit?.kind == .exact, "step \(step): missed a live entry")
                }
            case 70..<78:
                if let key = model.keys.sorted().randomElement(using: &rng) {  // sorted: a dictionary's order varies by run
                    #expect(try await cache.delete(key: key), "step \(step)")
                    model[key] = nil
                }
            case 78..<81:
                // The namespace is the tenant's (same model and system prompt here), all prompts.
                let ns = cache.namespace(for: request(tenant, prompt))
                try await cache.purge(namespace: ns.id)
                model = model.filter { $0.value.tenant != tenant }
            case 81..<93:
                fixture.clock.advance(by: Double(Int.random(in: 1...8, using: &rng)))
            case 93..<98:
                try await cache.maintain()
                // Every expired entry is swept.
                for (key, entry) in model where !isLive(entry) {
                    #expect(try await cache.entry(key: key) == nil, "step \(step): \(key) expired but kept")
                    model[key] = nil
                }
            default:
                try await cache.close()
                cache = try await fixture.open()
            }
            // What the model holds and the cache does not was evicted, which only an insert
            // past capacity does; nothing else disappears.
            for (key, entry) in model where try await cache.entry(key: key) == nil {
                #expect(mayEvict || !isLive(entry), "step \(step): \(key) (\(entry.tenant): \(entry.prompt)) vanished")
                model[key] = nil
            }
            // And every entry the cache counts is one the model holds.
            #expect(cache.stats.entries == model.count, "step \(step): \(cache.stats.entries) counted, \(model.count) held")
            #expect(cache.stats.entries <= fixture.configuration.maxEntries, "step \(step)")
        }
        try await cache.close()
        // The walk reached the cases it is about.
        #expect(hits.exact > 50 && hits.semantic > 5, "\(hits)")
    }
}
