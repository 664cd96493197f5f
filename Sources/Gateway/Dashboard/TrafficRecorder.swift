import DejaSupport
import Foundation

/// What the dashboard shows over time, kept in memory: requests by outcome, latency of hits
/// and of misses, savings and cost, per minute for a day and per hour for a week; the
/// similarity of semantic hits and of the best candidates of misses; the false-positive guard's
/// refusals; the last requests. Everything a hit touches is a relaxed atomic add (no lock);
/// the refusals, which only misses have, sit behind a lock.
public final class TrafficRecorder: Sendable {
    let minutes = TrafficRing(slots: 24 * 60, seconds: 60)
    let hours = TrafficRing(slots: 7 * 24, seconds: 3600)
    /// Similarity in hundredths, 0.00–0.99 and 1.00 in the last bin.
    let hitSimilarity = AtomicCounters(count: 100)
    let missSimilarity = AtomicCounters(count: 100)
    let recent = RecentRequests(capacity: 200)
    private let refusals = Mutex<[String: Int]>([:])

    public init() {}

    /// A finished request with a cache outcome (`x-deja-cache`): counted and timed.
    func request(cache: String, status: Int, milliseconds: Double, at time: Double) {
        let outcome: TrafficField?
        var hit: Bool? = false
        switch cache {
        case "hit": outcome = .exactHits; hit = true
        case "semantic-hit": outcome = .semanticHits; hit = true
        case "miss", "verify", "shadow": outcome = .misses
        default: outcome = nil
        }
        // A refusal before the provider (400, 401, 429) is neither a hit nor a miss to time.
        if outcome == nil && status < 500 { hit = nil }
        let bucket = LatencyBuckets.index(milliseconds: milliseconds)
        minutes.request(outcome, latencyBucket: bucket, hit: hit, at: time)
        hours.request(outcome, latencyBucket: bucket, hit: hit, at: time)
        if status >= 500 { add(.errors, 1, at: time) }
    }

    func add(_ field: TrafficField, _ amount: Int, at time: Double = Date().timeIntervalSince1970) {
        minutes.add(field, amount, at: time)
        hours.add(field, amount, at: time)
    }

    func similarity(_ value: Float, hit: Bool) {
        let bin = min(99, max(0, Int(value * 100)))
        (hit ? hitSimilarity : missSimilarity).add(bin)
    }

    func refusal(_ reason: String) {
        refusals.withLock { r in
            if r[reason] != nil || r.count < 100 { r[reason, default: 0] += 1 }
        }
    }

    /// The report of `GET /v1/admin/traffic`.
    func report(_ range: TrafficRange, now: Double, threshold: Float?) -> JSONValue {
        let ring = range == .week ? hours : minutes
        let last = ring.period(at: now)
        let periods = range.periods
        let perPoint = range.periodsPerPoint
        var points: [JSONValue] = []
        var total = [Int](repeating: 0, count: TrafficField.stride)
        var first = last - periods + 1
        first -= ((first % perPoint) + perPoint) % perPoint
        var p = first
        while p <= last {
            var sum = [Int](repeating: 0, count: TrafficField.stride)
            for q in p..<min(p + perPoint, last + 1) {
                let counts = ring.read(q)
                for i in 1..<TrafficField.stride { sum[i] += counts[i] }
            }
            for i in 1..<TrafficField.stride { total[i] += sum[i] }
            points.append(Self.point(sum, start: p * ring.seconds))
            p += perPoint
        }
        let bins = (0..<100).map { Int64($0) }
        return [
            "object": "deja.traffic", "range": .string(range.rawValue), "step_seconds": .int(Int64(perPoint * ring.seconds)),
            "points": .array(points), "totals": Self.point(total, start: first * ring.seconds),
            "similarity": [
                "threshold": threshold.map { .double((Double($0) * 10_000).rounded() / 10_000) } ?? .null, "bin_width": 0.01,
                "semantic_hits": .array(bins.map { .int(Int64(hitSimilarity.load(Int($0)))) }),
                "misses": .array(bins.map { .int(Int64(missSimilarity.load(Int($0)))) }),
            ],
            "refusals": .object(refusals.withLock { $0 }.mapValues { .int(Int64($0)) }),
        ]
    }

    private static func point(_ c: [Int], start: Int) -> JSONValue {
        func n(_ f: TrafficField) -> Int { c[f.rawValue] }
        func ms(_ v: Double?) -> JSONValue { v.map { .double(($0 * 100).rounded() / 100) } ?? .null }
        let hitLatency = Array(c[TrafficField.hitLatency..<TrafficField.hitLatency + LatencyBuckets.count])
        let missLatency = Array(c[TrafficField.missLatency..<TrafficField.missLatency + LatencyBuckets.count])
        let hits = n(.exactHits) + n(.semanticHits)
        let lookups = hits + n(.misses)
        return [
            "start": .int(Int64(start)), "requests": .int(Int64(n(.requests))),
            "exact_hits": .int(Int64(n(.exactHits))), "semantic_hits": .int(Int64(n(.semanticHits))),
            "misses": .int(Int64(n(.misses))),
            "hit_rate": lookups > 0 ? .double((Double(hits) / Double(lookups) * 10_000).rounded() / 10_000) : .null,
            "errors": .int(Int64(n(.errors))), "upstream_errors": .int(Int64(n(.upstreamErrors))),
            "saved_tokens": .int(Int64(n(.savedTokens))),
            "saved_usd": .double(Double(n(.savedMicrodollars)) / 1e6), "cost_usd": .double(Double(n(.costMicrodollars)) / 1e6),
            "hit_p50_ms": ms(LatencyBuckets.quantile(0.5, of: hitLatency)),
            "hit_p99_ms": ms(LatencyBuckets.quantile(0.99, of: hitLatency)),
            "miss_p50_ms": ms(LatencyBuckets.quantile(0.5, of: missLatency)),
            "miss_p99_ms": ms(LatencyBuckets.quantile(0.99, of: missLatency)),
        ]
    }
}

/// The spans `GET /v1/admin/traffic?range=` offers.
enum TrafficRange: String, Sendable {
    case hour, day, week

    /// Periods of the ring read: minutes for an hour and a day, hours for a week.
    var periods: Int {
        switch self {
        case .hour: 60
        case .day: 24 * 60
        case .week: 7 * 24
        }
    }

    /// Periods summed into one point of the chart.
    var periodsPerPoint: Int {
        switch self {
        case .hour: 1
        case .day: 15
        case .week: 1
        }
    }
}
