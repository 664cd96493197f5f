import DejaSupport
import CoreMetrics
import Foundation
import Metrics
public import Prometheus
import SemanticCache

/// The gateway's metrics, recorded through swift-metrics into its own Prometheus registry (no
/// global bootstrap, so several gateways can live in one process, as in tests).
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The dashboard's counters over time, fed by the same calls as the Prometheus series.
    public let traffic = TrafficRecorder()
    private let factory: PrometheusMetricsFactory

    private struct UsageLabels: Hashable {
        var model: String
        var tenant: String
    }

    private struct UsageHandles {
        var prompt, cached, completion: CoreMetrics.Counter
        var cost, savedExact, savedSemantic: CoreMetrics.FloatingPointCounter
    }

    private struct RouteStatus: Hashable {
        var route: String
        var status: Int
    }

    /// Handles made on first use, by their label and dimensions.
    private struct Handles {
        var counters: [String: CoreMetrics.Counter] = [:]
        var timers: [String: CoreMetrics.Timer] = [:]
        var gauges: [String: CoreMetrics.Gauge] = [:]
        var floatCounters: [String: CoreMetrics.FloatingPointCounter] = [:]
        /// Model names seen as labels, bounded (``modelLabel(_:)``).
        var models: Set<String> = []
        /// The usage series of each model and tenant, so that a request looks them up once.
        var usage: [UsageLabels: UsageHandles] = [:]
        /// Per-request handles by route and status, so that the hot path hashes one small key.
        var requests: [RouteStatus: (CoreMetrics.Counter, CoreMetrics.Timer)] = [:]
    }

    private let handles = Mutex(Handles())
    /// Made at start, so that they read 0 before the first hit and a hit does not look them up.
    private let savedPrompt: CoreMetrics.Counter
    private let savedCompletion: CoreMetrics.Counter
    /// `deja_cache_lookups_total` by result, made at start: every request counts one without
    /// building its key, and each series is scraped at 0 from the start, so a hit rate taken
    /// from them needs no case for a result not seen yet.
    private let lookups: [String: CoreMetrics.Counter]
    private let hitSimilarity: CoreMetrics.Recorder
    private let missSimilarity: CoreMetrics.Recorder

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        factory.valueHistogramBuckets["deja_lookup_similarity"] = [
            0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 1.0,
        ]
        self.factory = factory
        savedPrompt = CoreMetrics.Counter(label: "deja_saved_tokens_total", dimensions: [("kind", "prompt")], factory: factory)
        savedCompletion = CoreMetrics.Counter(
            label: "deja_saved_tokens_total", dimensions: [("kind", "completion")], factory: factory)
        lookups = Dictionary(uniqueKeysWithValues: ["hit", "semantic_hit", "miss", "bypass", "error", "verify", "shadow"].map {
            ($0, CoreMetrics.Counter(label: "deja_cache_lookups_total", dimensions: [("result", $0)], factory: factory))
        })
        hitSimilarity = CoreMetrics.Recorder(
            label: "deja_lookup_similarity", dimensions: [("result", "hit")], aggregate: true, factory: factory)
        missSimilarity = CoreMetrics.Recorder(
            label: "deja_lookup_similarity", dimensions: [("result", "miss")], aggregate: true, factory: factory)
    }

    private func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        handle(in: \.counters, key(label, dimensions)) {
            CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        }
    }

    func timer(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
        handle(in: \.timers, key(label, dimensions)) {
            CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory)
        }
    }

    func floatCounter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.FloatingPointCounter {
        handle(in: \.floatCounters, key(label, dimensions)) {
            CoreMetrics.FloatingPointCounter(label: label, dimensions: dimensions, factory: factory)
        }
    }

    func gauge(_ label: String) -> CoreMetrics.Gauge {
        handle(in: \.gauges, label) { CoreMetrics.Gauge(label: label, factory: factory) }
    }

    /// The handle kept under `key` in `table`, made on first use.
    private func handle<Handle: Sendable>(
        in table: any WritableKeyPath<Handles, [String: Handle]> & Sendable, _ key: String, make: () -> Handle
    ) -> Handle {
        handles.withLock { h in
            if let existing = h[keyPath: table][key] { return existing }
            let made = make()
            h[keyPath: table][key] = made
            return made
        }
    }

    /// A finished request: `deja_requests_total{route,status}` and `deja_request_duration_seconds{route}`.
    func request(route: String, status: Int, nanoseconds: Int64) {
        let key = RouteStatus(route: route, status: status)
        let cached = handles.withLock { $0.requests[key] }
        let (count, duration) = cached ?? {
            let made = (counter("deja_requests_total", [("route", route), ("status", String(status))]),
                        timer("deja_request_duration_seconds", [("route", route)]))
            handles.withLock { $0.requests[key] = made }
            return made
        }()
        count.increment()
        duration.recordNanoseconds(nanoseconds)
    }

    /// `deja_cache_lookups_total{result}`: hit, semantic_hit, miss, bypass or error.
    func lookup(_ result: String) {
        (lookups[result] ?? counter("deja_cache_lookups_total", [("result", result)])).increment()
    }

    /// `deja_coalesced_requests_total`: requests that waited for an identical one in flight and
    /// were answered with its stored answer (they are counted as hits too).
    /// `deja_connections_refused_total{reason}`: connections closed below the router, for a
    /// request too slow to arrive (`request_timeout`) or one connection too many (`max_connections`).
    func connectionRefused(reason: String) {
        counter("deja_connections_refused_total", [("reason", reason)]).increment()
    }

    func coalesced() {
        counter("deja_coalesced_requests_total").increment()
    }

    /// `deja_saved_tokens_total{kind=prompt|completion}`: the tokens a hit did not send to the
    /// provider, as the provider counted them for the stored answer. Multiplied by a model's
    /// prices, what the cache saved.
    func saved(promptTokens: Int, completionTokens: Int) {
        traffic.add(.savedTokens, promptTokens + completionTokens)
        if promptTokens > 0 { savedPrompt.increment(by: promptTokens) }
        if completionTokens > 0 { savedCompletion.increment(by: completionTokens) }
    }

    /// `deja_lookup_similarity{result=hit|miss}` (histogram): the similarity of a semantic hit,
    /// or the best one a miss saw. How close the misses come to the threshold is what tells
    /// whether it is set well for the traffic, without labelled pairs (`deja tune` needs those).
    func similarity(_ value: Float, hit: Bool) {
        traffic.similarity(value, hit: hit)
        (hit ? hitSimilarity : missSimilarity).record(Double(value))
    }

    /// A hit served, by the proxy or the lookup API: its kind, its similarity when semantic, and
    /// the tokens it kept from the provider.
    func observe(_ hit: CacheHit) {
        lookup(hit.kind == .exact ? "hit" : "semantic_hit")
        if hit.kind == .semantic { similarity(hit.similarity, hit: true) }
        saved(promptTokens: hit.promptTokens, completionTokens: hit.completionTokens)
    }

    /// A miss: counted, with its best similarity and the guard's refusal if there was one.
    func observe(_ miss: CacheMiss) {
        lookup("miss")
        if let best = miss.bestSimilarity { similarity(best, hit: false) }
        if let rejection = miss.rejection { guardRejection(rejection.code) }
    }

    /// `deja_guard_rejections_total{reason}`: misses the false-positive guard decided, a
    /// candidate above the threshold refused (numbers, negation, opposite_words, word_order,
    /// names: wrong answers kept from being served) or a query that may not match by similarity
    /// at all (empty_query, only_function_words, too_long).
    func guardRejection(_ reason: String) {
        traffic.refusal(reason)
        counter("deja_guard_rejections_total", [("reason", reason)]).increment()
    }

    /// `deja_guard_detections_total{detector,direction,action}`: values DLP and the deny-lists
    /// found in prompts and answers, and what was done with them.
    func detection(detector: String, direction: String, action: String, count: Int) {
        counter("deja_guard_detections_total", [("detector", detector), ("direction", direction), ("action", action)])
            .increment(by: Int64(count))
    }

    /// `deja_breaker_transitions_total{deployment,state}`: circuit breakers that opened, went
    /// half-open (a probe) or closed, by `provider/model`.
    func breaker(deployment: String, state: String) {
        counter("deja_breaker_transitions_total", [("deployment", deployment), ("state", state)]).increment()
    }

    /// `deja_injection_verdicts_total{verdict=pass|flag|block}`: requests the injection guard scored.
    func injection(_ verdict: String) {
        counter("deja_injection_verdicts_total", [("verdict", verdict)]).increment()
    }

    /// `deja_verifications_total{outcome=agree|disagree}`: would-be hits forwarded anyway
    /// (`cache.target_error_rate`) and how their fresh answers compared with the cached ones.
    /// Each is a provider call the cache could have saved: the cost of bounding the error rate.
    func verification(agree: Bool) {
        counter("deja_verifications_total", [("outcome", agree ? "agree" : "disagree")]).increment()
    }

    /// `deja_feedback_total{verdict=right|wrong}`: verdicts clients gave on hits.
    func feedback(correct: Bool) {
        counter("deja_feedback_total", [("verdict", correct ? "right" : "wrong")]).increment()
    }

    /// `deja_entries_retired_total`: entries deleted for being wrong `cache.retire_after` times.
    func retired() {
        counter("deja_entries_retired_total").increment()
    }

    /// `deja_shadow_lookups_total{would=exact|semantic|candidate|none, agree=true|false|unknown}`:
    /// shadow mode's would-be answers and whether they agreed with the provider's.
    func shadow(kind: String, agree: Bool?) {
        counter("deja_shadow_lookups_total", [("would", kind), ("agree", agree.map { $0 ? "true" : "false" } ?? "unknown")])
            .increment()
    }

    /// `deja_upstream_duration_seconds{provider}`.
    func upstream(provider: String, nanoseconds: Int64) {
        timer("deja_upstream_duration_seconds", [("provider", provider)]).recordNanoseconds(nanoseconds)
    }

    /// `deja_upstream_errors_total{provider,kind}`: status, timeout, unreachable, invalid or stream.
    /// `deja_upstream_retries_total{provider,reason}`: attempts made again after `status` (5xx,
    /// 408), `rate_limited` (429), `timeout` or `unreachable` (`providers.*.retries`).
    func upstreamRetry(provider: String, reason: String) {
        counter("deja_upstream_retries_total", [("provider", provider), ("reason", reason)]).increment()
    }

    func upstreamError(provider: String, kind: String) {
        traffic.add(.upstreamErrors, 1)
        counter("deja_upstream_errors_total", [("provider", provider), ("kind", kind)]).increment()
    }

    /// `deja_cache_store_failures_total{during}`: reads and writes of the cache store that failed
    /// (a full disk, a locked or damaged file), by when: `request` (the lookup API answered 503),
    /// `store_answer` (a provider's answer went to the client uncached), `upkeep` (hit counters
    /// kept for the next round; expiry and eviction), `snapshot` (the index file), `follow` (a
    /// shared store's changes, read again at the next round). Worth an alert:
    /// while it grows, the cache stops learning.
    func storeFailure(during: String) {
        counter("deja_cache_store_failures_total", [("during", during)]).increment()
    }

    /// `deja_cache_entries` and `deja_cache_bytes` (prompts, answers and vectors, as counted
    /// against `cache.max_bytes`).
    func size(entries: Int, bytes: Int) {
        gauge("deja_cache_entries").record(entries)
        gauge("deja_cache_bytes").record(bytes)
    }

    /// The `model` label of a usage metric: the first 200 model names as they are, any later one
    /// `other`, so that clients naming models at random cannot grow the series without bound.
    private func modelLabel(_ model: String) -> String {
        handles.withLock { h in
            if h.models.contains(model) { return model }
            guard h.models.count < 200 else { return "other" }
            h.models.insert(model)
            return model
        }
    }

    /// A metered request's ledger row as metrics, by model and tenant (keys are not a label):
    /// `deja_usage_tokens_total{kind=prompt|cached|completion}`, `deja_usage_cost_dollars_total`,
    /// `deja_usage_saved_dollars_total{hit=exact|semantic}`.
    func usage(_ row: UsageRecord) {
        traffic.add(.savedMicrodollars, Int((row.savedCost * 1e6).rounded()), at: row.at)
        traffic.add(.costMicrodollars, Int((row.cost * 1e6).rounded()), at: row.at)
        guard row.promptTokens + row.completionTokens > 0 || row.savedCost > 0 || row.cost > 0 else { return }
        let labels = UsageLabels(model: row.upstreamModel ?? row.model ?? "none", tenant: row.tenant.isEmpty ? "none" : row.tenant)
        let h = handles.withLock { $0.usage[labels] } ?? usageHandles(labels)
        if row.promptTokens > 0 { h.prompt.increment(by: row.promptTokens) }
        if row.cachedTokens > 0 { h.cached.increment(by: row.cachedTokens) }
        if row.completionTokens > 0 { h.completion.increment(by: row.completionTokens) }
        if row.cost > 0 { h.cost.increment(by: row.cost) }
        if row.savedCost > 0 { (row.cache == "semantic-hit" ? h.savedSemantic : h.savedExact).increment(by: row.savedCost) }
    }

    /// The usage series of one model and tenant, made on first use.
    private func usageHandles(_ labels: UsageLabels) -> UsageHandles {
        let model = modelLabel(labels.model), tenant = labels.tenant
        func tokens(_ kind: String) -> CoreMetrics.Counter {
            counter("deja_usage_tokens_total", [("kind", kind), ("model", model), ("tenant", tenant)])
        }
        func saved(_ hit: String) -> CoreMetrics.FloatingPointCounter {
            floatCounter("deja_usage_saved_dollars_total", [("hit", hit), ("model", model), ("tenant", tenant)])
        }
        let made = UsageHandles(
            prompt: tokens("prompt"), cached: tokens("cached"), completion: tokens("completion"),
            cost: floatCounter("deja_usage_cost_dollars_total", [("model", model), ("tenant", tenant)]),
            savedExact: saved("exact"), savedSemantic: saved("semantic"))
        // Models past the 200th share `other`'s handles, but each name keeps its own entry here:
        // bounded by what clients can name only through routed models.
        handles.withLock { h in if h.usage.count < 10_000 { h.usage[labels] = made } }
        return made
    }

    /// `deja_governance_refusals_total{kind}`: auth (no, unknown, revoked or expired key), model
    /// (not allowed), requests, tokens, concurrency, budget.
    func governanceRefusal(_ kind: String) {
        counter("deja_governance_refusals_total", [("kind", kind)]).increment()
    }

    /// `deja_usage_rows_total{outcome=written|dropped}`: ledger rows written, or dropped because
    /// `usage.max_pending` were already waiting for a slow store.
    func ledgerRows(written: Int, dropped: Int) {
        if written > 0 { counter("deja_usage_rows_total", [("outcome", "written")]).increment(by: written) }
        if dropped > 0 { counter("deja_usage_rows_total", [("outcome", "dropped")]).increment(by: dropped) }
    }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        registry.emitToString()
    }
}
