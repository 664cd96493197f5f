import Dispatch
public import Embedding
import DejaSupport
public import Foundation
import Logging
import VectorIndex

/// Decides "have we answered this before?" and remembers new answers.
///
/// ```swift
/// let cache = try await SemanticCache.open(
///     configuration: .init(), embedder: try HashingEmbedder(), store: try SQLiteCacheStore(path: "c.sqlite"))
/// let request = CacheRequest(model: "gpt-4o", context: ["system": "Be brief."], prompt: "How do I reset my password?")
/// switch try await cache.lookup(request) {
/// case .hit(let hit): return hit.response
/// case .miss(let miss):
///     let answer = try await callTheLLM()
///     _ = try await cache.insert(miss.request, response: answer, model: "gpt-4o")
/// }
/// ```
///
/// A lookup first tries an exact match of the normalised request, then the `candidates` most
/// similar prompts of the same namespace: a small namespace is scored exactly, a large one by
/// an HNSW search restricted to its tag. The best candidate above the threshold that passes the
/// false-positive guard and has not expired is served. A wrong hit serves one user's answer to
/// another question, which is worse than a miss, so every check errs towards the miss.
///
/// Lookups run concurrently. Writes (inserts, deletes, expiry, eviction) go one at a time
/// through an async lock, so the store, the index and the catalog change in the same order;
/// the index is still searchable while an insert finds its neighbours.
public final class SemanticCache: Sendable {
    public let configuration: CacheConfiguration
    public let embedder: any Embedder
    public let store: any CacheStore
    /// Where the index snapshot is saved; `nil` to never save one.
    public let indexPath: String?
    let index: SharedIndex<HNSWIndex>
    let catalog: Catalog
    let memo: ResponseMemo
    let usage = LookupCounters()
    let guardrail: FalsePositiveGuard
    /// How a similar candidate is judged: by a learned verifier, or by the cosine and the guard.
    public let decision: HitDecision
    /// The threshold when the configuration sets none: the verifier model's, or the embedder's
    /// cosine default.
    public let defaultThreshold: Float
    let clock: any CacheClock
    /// A uniform number in 0..<1 per verification draw (seeded in tests).
    let random: @Sendable () -> Double
    /// Verdicts on hits (feedback and verification), since the start.
    let verdicts = VerdictCounters()
    let logger: Logger
    let writes = AsyncLock()
    /// Whether the last upkeep round held a shared store's upkeep lease.
    let upkeepLeader = Mutex(true)
    /// The pairs log, when `cache.pairs_log.file` names one.
    let pairs: PairsLog?
    /// Whether judged hits are written to the pairs log (so worth remembering their prompts for).
    public var logsPairs: Bool { pairs != nil }
    /// Index inserts run here rather than on Swift's cooperative threads: an insert is a
    /// millisecond of CPU, and on a small machine it would hold up the lookups queued behind it.
    let indexWriter = DispatchQueue(label: "deja.cache.index-writer", qos: .utility)
    /// The last change of a shared store (``ChangeFeed``) applied to the index and catalog.
    let followed = Mutex<Int64>(0)

    init(
        configuration: CacheConfiguration, embedder: any Embedder, store: any CacheStore, indexPath: String?,
        index: HNSWIndex, catalog: Catalog, clock: any CacheClock, logger: Logger, pairs: PairsLog? = nil,
        decision: HitDecision = .cosine, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.random = random
        self.decision = decision
        self.defaultThreshold = decision.defaultThreshold(embedder: embedder.identity)
        self.pairs = pairs
        self.configuration = configuration
        self.embedder = embedder
        self.store = store
        self.indexPath = indexPath
        self.index = SharedIndex(index)
        self.catalog = catalog
        self.memo = ResponseMemo(budget: configuration.responseMemory)
        self.guardrail = FalsePositiveGuard(configuration: configuration.guardChecks)
        self.clock = clock
        self.logger = logger
    }

    /// The namespace a request falls in.
    public func namespace(for request: CacheRequest) -> Namespace {
        request.namespace(shared: configuration.isShared(request.sharedLabel))
    }

    /// The request with its namespace and exact key worked out, for ``lookup(_:options:)-(PreparedRequest,_)``
    /// and ``insert(_:response:model:promptTokens:completionTokens:ttl:)``.
    public func prepare(_ request: CacheRequest) -> PreparedRequest {
        PreparedRequest(request, namespace: namespace(for: request))
    }

    // MARK: - Lookup

    /// Finds a cached answer for `request`.
    ///
    /// - Throws: ``CacheError/embedding(_:)`` when the embedder fails (answer from the upstream
    ///   without the cache), ``CacheError/store(_:)`` when the store cannot be read.
    public func lookup(_ request: CacheRequest, options: LookupOptions = .init()) async throws(CacheError) -> LookupResult {
        try await lookup(prepare(request), options: options)
    }

    /// Finds a cached answer for a prepared request. A miss carries the request on, with what
    /// the lookup worked out (features, vector), for storing its answer.
    ///
    /// - Throws: ``CacheError/embedding(_:)`` when the embedder fails (answer from the upstream
    ///   without the cache), ``CacheError/store(_:)`` when the store cannot be read.
    public func lookup(_ prepared: PreparedRequest, options: LookupOptions = .init()) async throws(CacheError) -> LookupResult {
        let now = clock.now()
        let result = try await find(prepared, options: options, now: now)
        if options.record {
            let ns = prepared.namespace
            switch result {
            case .hit(let hit): usage.hit(hit, at: now)
            case .miss: usage.miss(ns)
            }
            if let pairs, let prompt = prepared.request.prompt {
                recordPair(result, prompt: prompt, prepared.request, ns, options, now, to: pairs)
            }
        }
        return result
    }

    /// What `request` needs in `ns` (a probability with the verifier, else a similarity): the
    /// configured threshold, raised by the request's own.
    public func threshold(_ request: CacheRequest, in ns: Namespace, options: LookupOptions) -> Float {
        max(configuration.threshold(model: request.model, label: ns.label, fallback: defaultThreshold), options.threshold ?? 0)
    }

    /// Queues a semantic hit, or a miss whose best candidate came within the band, for the pairs log.
    private func recordPair(
        _ result: LookupResult, prompt: String, _ request: CacheRequest, _ ns: Namespace, _ options: LookupOptions,
        _ now: Date, to pairs: PairsLog
    ) {
        let threshold = self.threshold(request, in: ns, options: options)
        var pair = PairsLog.Pair(
            candidate: 0, query: prompt, similarity: 0, threshold: threshold, served: false, refusal: nil,
            model: request.model, label: ns.label, at: now)
        switch result {
        case .hit(let hit):
            guard hit.kind == .semantic else { return }
            (pair.candidate, pair.similarity, pair.probability, pair.served) = (hit.key, hit.similarity, hit.probability, true)
        case .miss(let miss):
            // Within the band of the threshold: by probability when the verifier decided.
            guard let key = miss.bestKey, let best = miss.bestSimilarity,
                  Float(miss.bestProbability ?? Double(best)) >= threshold - configuration.pairsLog.band
            else { return }
            (pair.candidate, pair.similarity, pair.probability, pair.refusal) =
                (key, best, miss.bestProbability, miss.rejection?.description)
        }
        pairs.record(pair)
    }

    private func find(_ prepared: PreparedRequest, options: LookupOptions, now: Date) async throws(CacheError) -> LookupResult {
        let time = now.timeIntervalSince1970
        let ns = prepared.namespace
        let storedSince = options.maxAge.map { time - $0 } ?? -.infinity
        if let (key, info) = catalog.exactHit(prepared.exactKey, namespace: ns.id, at: time, storedSince: storedSince),
           let response = try await response(key)
        {
            return .hit(CacheHit(
                kind: .exact, key: key, similarity: 1, response: response, namespace: ns,
                promptTokens: info.promptTokens, completionTokens: info.completionTokens, age: time - info.createdAt))
        }
        var miss = CacheMiss(request: prepared, bestSimilarity: nil, bestKey: nil, rejection: nil)
        guard options.semantic, prepared.request.prompt != nil else { return .miss(miss) }
        let features = miss.request.analysed()
        if let rejection = guardrail.checkQuery(features) {
            miss.rejection = rejection
            return .miss(miss)
        }
        let vector = try await embedded(&miss.request)
        let threshold = self.threshold(prepared.request, in: ns, options: options)
        // The live candidates, most similar first.
        var live: [(key: UInt64, similarity: Float, info: EntryInfo)] = []
        for candidate in try nearest(vector, in: ns, k: configuration.candidates) {
            guard let info = catalog.info(candidate.key), info.namespace == ns.id, !Self.expired(info, at: time),
                  info.createdAt >= storedSince
            else { continue }
            live.append((candidate.key, candidate.similarity, info))
        }
        guard let first = live.first else { return .miss(miss) }
        (miss.bestSimilarity, miss.bestKey) = (first.similarity, first.key)
        // One candidate is judged: the most probable, or the most similar. A refused best never
        // lets a weaker one through.
        let chosen: (key: UInt64, similarity: Float, info: EntryInfo)
        var probability: Double?
        var verify = false
        switch decision {
        case .verifier(let model):
            let weighed = live.filter { $0.similarity >= model.floor }
            guard !weighed.isEmpty else { return .miss(miss) }
            var best: (index: Int, p: Double, values: [Double])?
            for (i, c) in weighed.enumerated() {
                // The best of the others: candidates come most similar first.
                let competitor = i == 0 ? weighed.dropFirst().first?.similarity : weighed[0].similarity
                let values = VerifierFeature.values(
                    query: features, candidate: c.info.features, similarity: c.similarity, competitor: competitor,
                    floor: model.floor, features: model.features)
                let p = model.probability(values)
                if best == nil || p > best!.p { best = (i, p, values) }
            }
            let b = best!
            chosen = weighed[b.index]
            probability = b.p
            // The best candidate is the verifier's choice, which need not be the most similar.
            (miss.bestKey, miss.bestSimilarity, miss.bestProbability) = (chosen.key, chosen.similarity, b.p)
            let policy = VerificationPolicy(
                threshold: Double(threshold), target: options.verification ? configuration.targetErrorRate : 0)
            switch policy.action(probability: b.p, similarity: chosen.similarity, trust: chosen.info.trust, draw: random) {
            case .serve:
                break
            case .verify:
                verify = true
            case .miss:
                if !chosen.info.trust.allows(similarity: chosen.similarity, probability: b.p) {
                    miss.rejection = .belowEntryThreshold(
                        value: b.p, minimum: chosen.info.trust.minProbability ?? Double(chosen.info.trust.minSimilarity ?? 0))
                } else {
                    miss.rejection = .unlikely(probability: b.p, threshold: threshold, evidence: Self.evidence(b.values, model))
                }
                return .miss(miss)
            }
        case .cosine:
            chosen = first
            guard chosen.similarity >= threshold else { return .miss(miss) }
            if let rejection = guardrail.check(query: features, candidate: chosen.info.features) {
                miss.rejection = rejection
                return .miss(miss)
            }
        }
        if !chosen.info.trust.allows(similarity: chosen.similarity, probability: probability) {
            let minimum = probability == nil ? Double(chosen.info.trust.minSimilarity ?? 0) : chosen.info.trust.minProbability ?? 0
            miss.rejection = .belowEntryThreshold(value: probability ?? Double(chosen.similarity), minimum: minimum)
            return .miss(miss)
        }
        guard let response = try await response(chosen.key) else { return .miss(miss) }
        catalog.touch(chosen.key, at: time)
        var hit = CacheHit(
            kind: .semantic, key: chosen.key, similarity: chosen.similarity, response: response,
            namespace: ns, promptTokens: chosen.info.promptTokens, completionTokens: chosen.info.completionTokens,
            age: time - chosen.info.createdAt, probability: probability)
        hit.verify = verify
        return .hit(hit)
    }

    /// What weighed most against a candidate, in words: the lexical differences whose weighted
    /// contribution lowered its probability by more than a small amount.
    static func evidence(_ values: [Double], _ model: VerifierModel) -> [String] {
        var out: [(Double, String)] = []
        for (i, feature) in model.features.enumerated() {
            guard feature != .similarity && feature != .competitor, values[feature.index] > 0 else { continue }
            let contribution = model.weights[i] * (values[feature.index] - model.mean[i]) / model.scale[i]
            if contribution < -0.25 { out.append((contribution, feature.description)) }
        }
        return out.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The prompt's vector, embedded on first use from its normalised words.
    private func embedded(_ prepared: inout PreparedRequest) async throws(CacheError) -> [Float] {
        if let vector = prepared.vector { return vector }
        _ = prepared.analysed()
        do {
            let vector = try await embedder.embed(prepared.text!)
            prepared.vector = vector
            return vector
        } catch {
            throw .embedding(error)
        }
    }

    /// The `k` nearest live vectors of a namespace, most similar first: exact scoring when the
    /// namespace is small or a small share of the index, a tag-restricted graph search otherwise.
    func nearest(_ vector: [Float], in ns: Namespace, k: Int) throws(CacheError) -> [Neighbor] {
        let size = catalog.size(of: ns.id)
        guard size > 0 else { return [] }
        do {
            if configuration.scoresExactly(namespaceSize: size, indexSize: index.count) {
                let keys = catalog.keys(in: ns.id)
                return try index.read { (i) throws(IndexError) in try i.score(vector, keys: keys, k: k) }
            }
            let ef = max(configuration.hnsw.efSearch, k)
            return try index.read { (i) throws(IndexError) in try i.search(vector, k: k, ef: ef, tag: ns.tag) }
        } catch {
            throw .index(error)
        }
    }

    static func expired(_ info: EntryInfo, at time: Double) -> Bool {
        info.expiresAt.map { $0 <= time } ?? false
    }

    /// The response of `key`, from memory or from the store.
    func response(_ key: UInt64) async throws(CacheError) -> Data? {
        if let data = memo.get(key) { return data }
        guard let data = try await store.response(key: key) else { return nil }
        memo.put(key, data)
        return data
    }

    // MARK: - Feedback and verification

    /// Records a verdict on a hit of `key` at `similarity` (1 for an exact hit): from a client's
    /// feedback, or a verification's comparison of answers. A wrong one raises the entry's own
    /// threshold to `similarity`, so that only closer prompts may hit it again; an entry wrong
    /// `cache.retire_after` times is deleted. With `namespace`, an entry of another namespace is
    /// left alone (a tenant's verdict never reaches another tenant's entries).
    ///
    /// With `asked` and the pairs log on, the pair is written there with its label.
    ///
    /// - Returns: the entry's trust after the verdict and whether it was retired; `nil` when
    ///   there is no such entry (in that namespace).
    @discardableResult
    public func judge(
        entry key: UInt64, similarity: Float, probability: Double? = nil, correct: Bool, namespace: Digest128? = nil,
        source: VerdictSource = .feedback, asked: JudgedPrompt? = nil
    ) async throws(CacheError) -> (trust: EntryTrust, retired: Bool)? {
        try await writes.run { () throws(CacheError) -> (trust: EntryTrust, retired: Bool)? in
            guard let info = catalog.info(key), namespace == nil || info.namespace == namespace else { return nil }
            var trust = info.trust
            trust.record(correct: correct, similarity: similarity, probability: probability)
            verdicts.count(correct: correct, source: source)
            if let pairs, let asked, let cached = try? await store.entry(key: key)?.prompt {
                pairs.record(PairsLog.Pair(
                    candidate: key, query: asked.prompt, similarity: similarity, probability: probability,
                    threshold: configuration.threshold(model: asked.model, label: asked.namespace.label, fallback: defaultThreshold),
                    served: true, refusal: nil, model: asked.model, label: asked.namespace.label, at: clock.now(), same: correct,
                    judgedBy: source, cached: cached))
            }
            if !correct && trust.wrongHits >= configuration.retireAfter {
                try await removeLocked([key])
                verdicts.retired()
                logger.info("retired entry \(key): \(trust.wrongHits) hits on it were wrong")
                return (trust, true)
            }
            try await store.setTrust(trust, key: key)
            catalog.setTrust(trust, of: key)
            return (trust, false)
        }
    }

    // MARK: - Insert

    /// Stores `response` as the answer to `request`. An earlier entry for the same exact
    /// request is replaced. The call returns once the entry is durable in the store.
    ///
    /// - Parameter ttl: seconds the entry lives (default `cache.ttl`; 0 for no expiry).
    /// - Throws: ``CacheError``; nothing is stored then.
    @discardableResult
    public func insert(
        _ request: CacheRequest, response: Data, model: String, promptTokens: Int = 0, completionTokens: Int = 0,
        ttl: Double? = nil
    ) async throws(CacheError) -> CacheEntry {
        try await insert(
            prepare(request), response: response, model: model, promptTokens: promptTokens, completionTokens: completionTokens,
            ttl: ttl)
    }

    /// Stores `response` as the answer to a prepared request: the request of a miss
    /// (``CacheMiss/request``) is stored with the namespace, key, features and vector its lookup
    /// worked out, none of them computed again.
    ///
    /// - Parameter ttl: seconds the entry lives (default `cache.ttl`; 0 for no expiry).
    /// - Throws: ``CacheError``; nothing is stored then.
    @discardableResult
    public func insert(
        _ prepared: PreparedRequest, response: Data, model: String, promptTokens: Int = 0, completionTokens: Int = 0,
        ttl: Double? = nil
    ) async throws(CacheError) -> CacheEntry {
        var prepared = prepared
        let features = prepared.analysed()
        // Only prompts that could ever hit by similarity are embedded.
        let vector = prepared.request.prompt != nil && guardrail.checkQuery(features) == nil
            ? try await embedded(&prepared) : nil
        let now = clock.now()
        let ttl = ttl ?? configuration.ttl
        guard ttl >= 0 else { throw .invalidEntry("ttl must be 0 or more seconds, got \(ttl)") }
        let entry = CacheEntry(
            namespace: prepared.namespace, exactKey: prepared.exactKey, prompt: prepared.request.prompt ?? "", vector: vector,
            response: response, model: model, createdAt: now, expiresAt: ttl > 0 ? now + ttl : nil,
            promptTokens: promptTokens, completionTokens: completionTokens)
        return try await commit(entry, features: features, now: now)
    }

    /// Stores an entry as another cache held it (what `deja cache export` writes): its namespace,
    /// prompt, answer, model, times, hit count and token counts. The key, the exact-match key and
    /// the vector are made anew, with this cache's normalisation and embedder, so that a cache can
    /// move to another machine or another embedder; the exact key is never taken from outside, so
    /// an entry cannot be filed under a prompt it does not hold. An earlier entry for the same
    /// exact request is replaced.
    ///
    /// - Returns: the stored entry, or `nil` when it has already expired (nothing is stored).
    /// - Throws: ``CacheError``; nothing is stored then.
    public func restore(_ exported: CacheEntry) async throws(CacheError) -> CacheEntry? {
        let now = clock.now()
        if let expiry = exported.expiresAt, expiry <= now { return nil }
        var entry = exported
        entry.key = 0
        entry.vector = nil
        // The entry of a request without a last user message holds the empty prompt, and both
        // give the same exact key.
        entry.exactKey = CacheRequest(model: entry.model, prompt: entry.prompt).exactKey(in: entry.namespace)
        let features = PromptFeatures(entry.prompt)
        if !entry.prompt.isEmpty && guardrail.checkQuery(features) == nil {
            do { entry.vector = try await embedder.embed(entry.prompt) } catch { throw .embedding(error) }
        }
        return try await commit(entry, features: features, now: now)
    }

    /// Writes `entry` to the store, then the index, catalog and memory; replaces the entry of the
    /// same exact key and evicts down to capacity.
    private func commit(_ entry: CacheEntry, features: PromptFeatures, now: Date) async throws(CacheError) -> CacheEntry {
        guard entry.byteSize <= configuration.maxBytes else {
            throw .invalidEntry("the entry takes \(entry.byteSize) bytes, more than cache.max_bytes (\(configuration.maxBytes))")
        }
        let tag = entry.namespace.tag
        return try await writes.run { () throws(CacheError) in
            let stored = try await store.insert(entry)
            if let embedding = entry.vector {
                if case .failure(let error) = await indexInsert([(stored.key, embedding, tag)]) {
                    _ = try? await store.delete(keys: [stored.key])
                    throw .index(error)
                }
            }
            let previous = catalog.key(exact: entry.exactKey)
            catalog.add(stored.key, Self.info(stored.summary, features: features, lastUsed: now), label: entry.namespace.label)
            memo.put(stored.key, entry.response)
            if let previous, previous != stored.key { try await removeLocked([previous]) }
            try await evictLocked()
            return stored
        }
    }

    /// Inserts vectors into the index on `indexWriter`, off Swift's cooperative threads (an HNSW
    /// insert is a few hundred microseconds of CPU); stops at the first failure.
    func indexInsert(_ items: [(key: UInt64, vector: [Float], tag: UInt32)]) async -> Result<Void, IndexError> {
        let index = self.index
        return await withCheckedContinuation { continuation in
            indexWriter.async {
                continuation.resume(returning: Result { () throws(IndexError) in
                    for item in items {
                        try index.insert { (i) throws(IndexError) in try i.prepareInsert(key: item.key, vector: item.vector, tag: item.tag) }
                    }
                })
            }
        }
    }

    static func info(_ s: EntrySummary, features: PromptFeatures, lastUsed: Date) -> EntryInfo {
        EntryInfo(
            namespace: s.namespace.id, exactKey: s.exactKey, createdAt: s.createdAt.timeIntervalSince1970,
            expiresAt: s.expiresAt?.timeIntervalSince1970,
            lastUsed: lastUsed.timeIntervalSince1970, byteSize: s.byteSize, sharedFeatures: .init(features),
            promptTokens: s.promptTokens, completionTokens: s.completionTokens, hasVector: s.hasVector, trust: s.trust)
    }

    // MARK: - Entries

    /// The stored entry of `key`, or `nil`.
    public func entry(key: UInt64) async throws(CacheError) -> CacheEntry? {
        guard catalog.info(key) != nil else { return nil }
        return try await store.entry(key: key)
    }

    /// Deletes one entry; returns whether it existed.
    @discardableResult
    public func delete(key: UInt64) async throws(CacheError) -> Bool {
        try await writes.run { () throws(CacheError) in try await removeLocked([key]) == 1 }
    }

    /// Deletes every entry of a namespace and its counters; returns how many entries went.
    @discardableResult
    public func purge(namespace id: Digest128) async throws(CacheError) -> Int {
        try await writes.run { () throws(CacheError) in
            let keys = try await store.purge(namespace: id)
            forget(keys + catalog.keys(in: id))
            usage.forget(id)
            return keys.count
        }
    }

    /// Purges every namespace whose label matches `glob` (`*` and `?`, as `cache.thresholds`;
    /// `*` is everything); returns the entries and namespaces purged.
    public func purge(labelsMatching glob: String) async throws(CacheError) -> (entries: Int, namespaces: Int) {
        var purged = (entries: 0, namespaces: 0)
        for namespace in namespaces(matching: glob) {
            purged.entries += try await purge(namespace: namespace.id)
            purged.namespaces += 1
        }
        return purged
    }

    /// Entries newest first (by key: keys only grow), of the namespaces in `namespaces` or of
    /// all: at most `limit`, with keys below `before` when given (the next page starts below the
    /// last key of this one). Expired entries not yet swept are left out.
    ///
    /// - Returns: the entries, and whether older ones remain.
    public func entries(
        in namespaces: Set<Digest128>? = nil, before: UInt64? = nil, limit: Int
    ) async throws(CacheError) -> (entries: [EntrySummary], more: Bool) {
        let now = clock.now().timeIntervalSince1970
        var out: [EntrySummary] = []
        var cursor = before
        while true {
            // One key more than the page needs says whether older ones remain; more are asked
            // for only when some of these turn out expired or gone.
            let wanted = limit - out.count + 1
            let keys = catalog.newestKeys(in: namespaces, before: cursor, count: wanted)
            for key in keys {
                if out.count == limit { return (out, true) }
                cursor = key
                guard let info = catalog.info(key), !Self.expired(info, at: now),
                      let entry = try await store.entry(key: key)
                else { continue }
                out.append(entry.summary)
            }
            if keys.count < wanted { return (out, false) }
        }
    }

    /// Namespaces holding entries whose label matches `glob`.
    public func namespaces(matching glob: String) -> [(id: Digest128, label: String, entries: Int)] {
        catalog.namespaces.filter { Glob.matches(glob, $0.label) }
    }

    /// Removes entries from the store, then the index, catalog and memory. Call under `writes`.
    @discardableResult
    func removeLocked(_ keys: [UInt64]) async throws(CacheError) -> Int {
        guard !keys.isEmpty else { return 0 }
        let deleted = try await store.delete(keys: keys)
        forget(deleted)
        return deleted.count
    }

    func forget(_ keys: [UInt64]) {
        for key in keys {
            index.remove(key: key)
            catalog.remove(key)
            memo.remove(key)
        }
    }

    /// Evicts least recently used entries down to 95% of the capacity when it is exceeded.
    func evictLocked() async throws(CacheError) {
        let victims = catalog.victims(
            maxEntries: configuration.maxEntries, maxBytes: configuration.maxBytes, slack: 0.95)
        if !victims.isEmpty {
            let removed = try await removeLocked(victims)
            logger.debug("evicted \(removed) least recently used entries")
        }
    }

    // MARK: - Search (the lookup API)

    /// The `k` entries most similar to `text` (or to `vector`), in one namespace or in all,
    /// with similarity at least `threshold`. Expired entries are left out.
    public func search(
        text: String? = nil, vector: [Float]? = nil, namespace: Digest128? = nil, k: Int, threshold: Float = -1
    ) async throws(CacheError) -> [SearchMatch] {
        let query: [Float]
        if let vector {
            query = vector
        } else if let text {
            do { query = try await embedder.embed(text) } catch { throw .embedding(error) }
        } else {
            throw .invalidEntry("search needs a text or a vector")
        }
        let k = max(1, min(k, 1000))
        let found: [Neighbor]
        if let namespace, let label = catalog.label(of: namespace) {
            found = try nearest(query, in: Namespace(id: namespace, label: label), k: k)
        } else if namespace != nil {
            found = []
        } else {
            do {
                let ef = max(configuration.hnsw.efSearch, k)
                found = try index.read { (i) throws(IndexError) in try i.search(query, k: k, ef: ef) }
            } catch {
                throw .index(error)
            }
        }
        let now = clock.now().timeIntervalSince1970
        var out: [SearchMatch] = []
        for n in found where n.similarity >= threshold {
            // A graph search is restricted by tag, which another namespace may share.
            guard let info = catalog.info(n.key), namespace == nil || info.namespace == namespace, !Self.expired(info, at: now),
                  let entry = try await store.entry(key: n.key)
            else { continue }
            out.append(SearchMatch(entry: entry.summary, similarity: n.similarity))
        }
        return out
    }

    // MARK: - Statistics

    /// Entries and their bytes, without the per-namespace statistics (``stats`` sorts every
    /// namespace and walks the index): for the upkeep's gauges and readiness checks.
    public var size: (entries: Int, bytes: Int) {
        (catalog.count, catalog.totalBytes)
    }

    public var stats: CacheStats {
        let counters = usage.all
        var namespaces: [NamespaceStats] = []
        var seen = Set<Digest128>()
        for ns in catalog.namespaces {
            seen.insert(ns.id)
            namespaces.append(Self.stats(counters[ns.id], id: ns.id, label: ns.label, entries: ns.entries))
        }
        for (id, c) in counters where !seen.contains(id) {
            namespaces.append(Self.stats(c, id: id, label: c.label, entries: 0))
        }
        namespaces.sort { ($0.label, $0.namespace) < ($1.label, $1.namespace) }
        let hits = namespaces.reduce(0) { $0 + $1.hits }
        let semantic = namespaces.reduce(0) { $0 + $1.semanticHits }
        let misses = namespaces.reduce(0) { $0 + $1.misses }
        let lookups = hits + semantic + misses
        return CacheStats(
            entries: catalog.count, bytes: catalog.totalBytes, hits: hits, semanticHits: semantic, misses: misses,
            hitRate: lookups == 0 ? 0 : Double(hits + semantic) / Double(lookups),
            savedPromptTokens: namespaces.reduce(0) { $0 + $1.savedPromptTokens },
            savedCompletionTokens: namespaces.reduce(0) { $0 + $1.savedCompletionTokens },
            embedder: embedder.identity, namespaces: namespaces, namespaceCount: namespaces.count, index: index.stats,
            verdicts: verdicts.all)
    }

    static func stats(_ c: NamespaceCounters?, id: Digest128, label: String, entries: Int) -> NamespaceStats {
        let hits = c?.hits ?? 0
        let semantic = c?.semanticHits ?? 0
        let misses = c?.misses ?? 0
        let lookups = hits + semantic + misses
        return NamespaceStats(
            namespace: id.description, label: label, entries: entries, hits: hits, semanticHits: semantic,
            misses: misses, hitRate: lookups == 0 ? 0 : Double(hits + semantic) / Double(lookups),
            savedPromptTokens: c?.savedPromptTokens ?? 0, savedCompletionTokens: c?.savedCompletionTokens ?? 0)
    }

    /// Counts `hit` for a request whose lookup was counted as a miss, and takes that miss back:
    /// a request that waited for an identical one in flight and was then answered from its
    /// stored answer (it cost no upstream call, so it is a hit and saved its tokens).
    public func recordHitAfterMiss(_ hit: CacheHit) {
        usage.hit(hit, at: clock.now(), replacingMiss: true)
    }

    /// Counts a request that bypassed the cache as a miss of its namespace (for hit rates).
    public func recordMiss(_ request: CacheRequest) {
        usage.miss(namespace(for: request))
    }
}
