/// What the dashboard's rings count per minute and per hour, as offsets into a slot.
enum TrafficField: Int, CaseIterable {
    case requests = 1
    case exactHits
    case semanticHits
    case misses
    /// Answers with a status of 500 or above (the provider's failures among them).
    case errors
    case upstreamErrors
    case savedTokens
    /// What hits saved and what misses cost, in millionths of a dollar (the ledger's prices).
    case savedMicrodollars
    case costMicrodollars

    /// Where the latency buckets of hits and of misses start.
    static let hitLatency = TrafficField.allCases.count + 1
    static let missLatency = hitLatency + LatencyBuckets.count
    /// Counters per slot: the slot's tag, the fields, two latency histograms.
    static let stride = missLatency + LatencyBuckets.count
}
