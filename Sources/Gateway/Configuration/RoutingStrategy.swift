/// How a request picks among a model's deployments (`models.NAME.strategy`).
public enum RoutingStrategy: String, Codable, Sendable, Equatable {
    /// At random, in proportion to the weights.
    case weighted
    /// The one with the fewest requests in flight (ties: weighted).
    case leastBusy = "least_busy"
    /// The one with the lowest recent time to the answer's first byte (an EWMA); one not yet
    /// measured goes first.
    case lowestLatency = "lowest_latency"
}
