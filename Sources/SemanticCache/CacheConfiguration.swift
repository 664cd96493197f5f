public import VectorIndex

/// The cache engine's settings: the `cache:` section of `deja.yaml`. Every field has a default.
public struct CacheConfiguration: Codable, Sendable, Equatable {
    /// What a cached prompt needs to answer a new one, unless an override matches: with the
    /// verifier (the default), the probability that its answer serves the new prompt; without,
    /// their cosine similarity. `nil`: the verifier model's own threshold, else the embedder's
    /// cosine default (docs/cache.md, Thresholds).
    public var threshold: Float?
    /// Per-namespace overrides, first match wins: `match` is a glob (`*`, `?`) on the namespace
    /// label `tenant/model[/partition]`.
    public var thresholds: [ThresholdOverride]
    /// Thresholds by the exact model name a request asks for, ahead of ``thresholds``. Not part of
    /// the `cache:` section: the gateway fills it from its model routes. Exact names, not globs,
    /// because model names may hold `/` (`openai/gpt-4o`), which a glob on the label cannot
    /// tell from the partition.
    public var modelThresholds: [String: Float] = [:]
    /// Seconds an entry lives; 0 means until evicted.
    public var ttl: Double
    /// Capacity in entries and in bytes (prompt + response + vector); over either, the least
    /// recently used entries go.
    public var maxEntries: Int
    public var maxBytes: Int
    /// The SQLite file; relative paths are resolved against the configuration file's folder.
    public var store: String
    /// The index snapshot loaded at start (and reconciled with the store); empty to always rebuild.
    public var indexFile: String
    /// Seconds between index snapshots (and at shutdown).
    public var snapshotInterval: Double
    /// How many nearest candidates a lookup examines before giving up.
    public var candidates: Int
    /// Namespaces with at most this many entries are scored exactly instead of by graph search,
    /// and larger ones while their share of the index is small (``scoresExactly(namespaceSize:indexSize:)``);
    /// 0 turns exact scoring off.
    public var exactScanLimit: Int
    /// Globs on `model[/partition]` whose namespaces are shared by all tenants.
    public var sharedNamespaces: [String]
    /// The false-positive guard.
    public var guardChecks: GuardConfiguration
    /// The HNSW graph's parameters. The cache's defaults differ from the index's: `ef_search` 32,
    /// because a lookup needs the best five candidates of one namespace and a near-duplicate above
    /// the threshold is found long before a wider search would change the answer; and
    /// `ef_construction` 100, because every miss inserts and the insert shares the machine with
    /// the requests.
    public var hnsw: HNSWConfiguration

    public static let defaultHNSW = HNSWConfiguration(m: 16, efConstruction: 100, efSearch: 32)
    /// Re-embed every entry when the embedder changed, instead of refusing to start.
    public var rebuildOnEmbedderChange: Bool
    /// Bytes of responses kept in memory in front of the store.
    public var responseMemory: Int
    /// How many namespaces without entries keep counters of their own in the statistics; beyond
    /// that they are summed into one. Every turn of a conversation is a namespace of its own
    /// (its earlier turns are its context), so without a bound the counters would grow by one
    /// per turn ever answered, long after the turns' entries expired.
    public var idleNamespaceStats: Int
    /// Pairs of the traffic's prompts written for labelling and `deja tune` (off by default).
    public var pairsLog: PairsLogConfiguration
    /// The learned verifier that decides semantic hits.
    public var verifier: VerifierSettings
    /// The share of served answers that may be wrong, at most; 0: off. When set, a would-be
    /// semantic hit on an entry whose own error rate is not yet known to be below it is
    /// verified instead (forwarded anyway, the fresh answer compared with the cached one), at a
    /// rate that halves with each hit on the entry found right (``VerificationPolicy``).
    public var targetErrorRate: Double
    /// Wrong hits (by feedback or verification) after which an entry is retired: deleted, so
    /// that the next request for it is answered afresh.
    public var retireAfter: Int
    /// `live`, or `shadow`: look up and record, but forward every request (``CacheMode``).
    public var mode: CacheMode
    /// Where shadow mode writes its verdicts (JSONL, no prompt text); relative to the
    /// configuration file.
    public var shadowLog: String
    /// How alike a cached and a fresh answer must be to count as the same answer, when
    /// verification and shadow mode compare them: the cosine of their embeddings (short and
    /// structured answers must be equal instead).
    public var answerAgreement: Float

    public init(
        threshold: Float? = nil, thresholds: [ThresholdOverride] = [], ttl: Double = 86_400 * 7,
        maxEntries: Int = 100_000, maxBytes: Int = 1 << 30, store: String = "deja-cache.sqlite",
        indexFile: String = "deja-cache.hnsw", snapshotInterval: Double = 300, candidates: Int = 5,
        exactScanLimit: Int = 1024, sharedNamespaces: [String] = [], guardChecks: GuardConfiguration = .init(),
        hnsw: HNSWConfiguration = CacheConfiguration.defaultHNSW, rebuildOnEmbedderChange: Bool = false,
        responseMemory: Int = 64 << 20, idleNamespaceStats: Int = 10_000, pairsLog: PairsLogConfiguration = .init(),
        verifier: VerifierSettings = .init(), targetErrorRate: Double = 0, retireAfter: Int = 3, mode: CacheMode = .live,
        shadowLog: String = "deja-shadow.jsonl", answerAgreement: Float = 0.9
    ) {
        self.mode = mode
        self.shadowLog = shadowLog
        self.answerAgreement = answerAgreement
        self.targetErrorRate = targetErrorRate
        self.retireAfter = retireAfter
        self.threshold = threshold
        self.thresholds = thresholds
        self.ttl = ttl
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.store = store
        self.indexFile = indexFile
        self.snapshotInterval = snapshotInterval
        self.candidates = candidates
        self.exactScanLimit = exactScanLimit
        self.sharedNamespaces = sharedNamespaces
        self.guardChecks = guardChecks
        self.hnsw = hnsw
        self.rebuildOnEmbedderChange = rebuildOnEmbedderChange
        self.responseMemory = responseMemory
        self.idleNamespaceStats = idleNamespaceStats
        self.pairsLog = pairsLog
        self.verifier = verifier
    }

    enum CodingKeys: String, CodingKey {
        case threshold, thresholds, ttl, maxEntries = "max_entries", maxBytes = "max_bytes", store
        case indexFile = "index_file", snapshotInterval = "snapshot_interval", candidates
        case exactScanLimit = "exact_scan_limit", sharedNamespaces = "shared_namespaces", guardChecks = "guard"
        case hnsw, rebuildOnEmbedderChange = "rebuild_on_embedder_change", responseMemory = "response_memory"
        case idleNamespaceStats = "idle_namespace_stats", pairsLog = "pairs_log", verifier
        case targetErrorRate = "target_error_rate", retireAfter = "retire_after", mode, shadowLog = "shadow_log"
        case answerAgreement = "answer_agreement"
    }

    public init(from decoder: any Decoder) throws {
        let d = CacheConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold)
        thresholds = try c.decodeIfPresent([ThresholdOverride].self, forKey: .thresholds) ?? d.thresholds
        ttl = try c.decodeIfPresent(Double.self, forKey: .ttl) ?? d.ttl
        maxEntries = try c.decodeIfPresent(Int.self, forKey: .maxEntries) ?? d.maxEntries
        maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? d.maxBytes
        store = try c.decodeIfPresent(String.self, forKey: .store) ?? d.store
        indexFile = try c.decodeIfPresent(String.self, forKey: .indexFile) ?? d.indexFile
        snapshotInterval = try c.decodeIfPresent(Double.self, forKey: .snapshotInterval) ?? d.snapshotInterval
        candidates = try c.decodeIfPresent(Int.self, forKey: .candidates) ?? d.candidates
        exactScanLimit = try c.decodeIfPresent(Int.self, forKey: .exactScanLimit) ?? d.exactScanLimit
        sharedNamespaces = try c.decodeIfPresent([String].self, forKey: .sharedNamespaces) ?? d.sharedNamespaces
        guardChecks = try c.decodeIfPresent(GuardConfiguration.self, forKey: .guardChecks) ?? d.guardChecks
        // Fields left out keep the cache's defaults (ef_search 32), not the index's.
        var hnsw = d.hnsw
        if let given = try c.decodeIfPresent(HNSWFields.self, forKey: .hnsw) {
            hnsw.m = given.m ?? hnsw.m
            hnsw.efConstruction = given.efConstruction ?? hnsw.efConstruction
            hnsw.efSearch = given.efSearch ?? hnsw.efSearch
            hnsw.seed = given.seed ?? hnsw.seed
            hnsw.vectors = given.vectors ?? hnsw.vectors
        }
        self.hnsw = hnsw
        rebuildOnEmbedderChange = try c.decodeIfPresent(Bool.self, forKey: .rebuildOnEmbedderChange)
            ?? d.rebuildOnEmbedderChange
        responseMemory = try c.decodeIfPresent(Int.self, forKey: .responseMemory) ?? d.responseMemory
        idleNamespaceStats = try c.decodeIfPresent(Int.self, forKey: .idleNamespaceStats) ?? d.idleNamespaceStats
        pairsLog = try c.decodeIfPresent(PairsLogConfiguration.self, forKey: .pairsLog) ?? d.pairsLog
        verifier = try c.decodeIfPresent(VerifierSettings.self, forKey: .verifier) ?? d.verifier
        targetErrorRate = try c.decodeIfPresent(Double.self, forKey: .targetErrorRate) ?? d.targetErrorRate
        retireAfter = try c.decodeIfPresent(Int.self, forKey: .retireAfter) ?? d.retireAfter
        mode = try c.decodeIfPresent(CacheMode.self, forKey: .mode) ?? d.mode
        shadowLog = try c.decodeIfPresent(String.self, forKey: .shadowLog) ?? d.shadowLog
        answerAgreement = try c.decodeIfPresent(Float.self, forKey: .answerAgreement) ?? d.answerAgreement
    }

    /// Every problem, as `cache.field: message`; empty when usable.
    public var problems: [String] {
        var out: [String] = []
        func check(_ ok: Bool, _ message: @autoclosure () -> String) { if !ok { out.append("cache." + message()) } }
        if let threshold { check((0...1).contains(threshold), "threshold: must be between 0 and 1, got \(threshold)") }
        for (i, o) in thresholds.enumerated() {
            check(!o.match.isEmpty, "thresholds[\(i)].match: must not be empty")
            check((0...1).contains(o.threshold), "thresholds[\(i)].threshold: must be between 0 and 1, got \(o.threshold)")
        }
        check(ttl >= 0, "ttl: must be 0 (no expiry) or a number of seconds, got \(ttl)")
        check(maxEntries >= 1, "max_entries: must be at least 1, got \(maxEntries)")
        check(maxBytes >= 1 << 16, "max_bytes: must be at least 65536, got \(maxBytes)")
        check(!store.isEmpty, "store: must name a file")
        check(snapshotInterval >= 1, "snapshot_interval: must be at least 1 second, got \(snapshotInterval)")
        check((1...100).contains(candidates), "candidates: must be between 1 and 100, got \(candidates)")
        check(exactScanLimit >= 0, "exact_scan_limit: must be 0 or more, got \(exactScanLimit)")
        check(responseMemory >= 0, "response_memory: must be 0 or more, got \(responseMemory)")
        check(idleNamespaceStats >= 0, "idle_namespace_stats: must be 0 or more, got \(idleNamespaceStats)")
        check((0..<0.5).contains(targetErrorRate), "target_error_rate: must be 0 (off) or a share under 0.5, got \(targetErrorRate)")
        check(retireAfter >= 1, "retire_after: must be at least 1, got \(retireAfter)")
        check(!shadowLog.isEmpty, "shadow_log: must name a file")
        check((0...1).contains(answerAgreement), "answer_agreement: must be between 0 and 1, got \(answerAgreement)")
        check(guardChecks.maxWords >= 0, "guard.max_words: must be 0 (no limit) or more, got \(guardChecks.maxWords)")
        out += hnsw.problems.map { "cache.hnsw." + $0 }
        out += pairsLog.problems.map { "cache." + $0 }
        return out
    }

    public func validate() throws(CacheError) {
        let problems = self.problems
        if !problems.isEmpty { throw .invalidConfiguration(problems) }
    }

    /// The threshold for a request of `model` in the namespace labelled `label`: the model's
    /// own, else the first matching override, else ``threshold``, else `fallback` (the
    /// decision's own default).
    public func threshold(model: String, label: String, fallback: Float) -> Float {
        modelThresholds[model] ?? thresholds.first { Glob.matches($0.match, label) }?.threshold ?? threshold ?? fallback
    }

    /// Whether a namespace of `size` entries in an index of `total` is scored exactly rather than
    /// searched in the graph restricted to its tag. A restricted search walks through the other
    /// namespaces' nodes, so its cost grows as the namespace's share of the index shrinks, while
    /// scoring exactly costs the namespace's size: on 100,000 × 128 (`IndexBenchmarks`, k = 5,
    /// ef = 64) exact scoring took 0.12, 0.40 and 1.9 ms for namespaces of 1,000, 4,000 and 16,000
    /// entries, the restricted search 5.0, 0.91 and 0.09 ms, crossing near 5,500. The crossover
    /// grows about as √total: √(320 × total) is 5,700 at 100,000 entries, 17,900 at a million.
    public func scoresExactly(namespaceSize size: Int, indexSize total: Int) -> Bool {
        guard exactScanLimit > 0 else { return false }
        return size <= max(exactScanLimit, Int((320 * Double(total)).squareRoot()))
    }

    /// Whether a request's `model[/partition]` names a shared namespace.
    public func isShared(_ sharedLabel: String) -> Bool {
        sharedNamespaces.contains { Glob.matches($0, sharedLabel) }
    }
}

/// The `hnsw` section as written, every field optional.
struct HNSWFields: Decodable {
    var m: Int?
    var efConstruction: Int?
    var efSearch: Int?
    var seed: UInt64?
    var vectors: VectorEncoding?

    enum CodingKeys: String, CodingKey {
        case m, efConstruction = "ef_construction", efSearch = "ef_search", seed, vectors
    }
}
