/// The circuit breaker of each deployment of a provider (`providers.NAME.breaker`): after
/// `failures` failures in a row (a 408, 429 or 5xx once retries ran out, a timeout, a refused
/// connection), the deployment is skipped for `cooldown` seconds; then one request probes it,
/// and its outcome closes the breaker or opens it again.
public struct BreakerConfiguration: Codable, Sendable, Equatable {
    /// Failures in a row that open the breaker; 0: never opens.
    public var failures: Int
    /// Seconds it stays open before a probe.
    public var cooldown: Double

    public init(failures: Int = 5, cooldown: Double = 30) {
        self.failures = failures
        self.cooldown = cooldown
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        failures = try c.decodeIfPresent(Int.self, forKey: .failures) ?? 5
        cooldown = try c.decodeIfPresent(Double.self, forKey: .cooldown) ?? 30
    }

    var problems: [String] {
        var out: [String] = []
        if !(0...1000).contains(failures) { out.append("breaker.failures: must be between 0 (off) and 1000, got \(failures)") }
        if !(cooldown > 0 && cooldown <= 3600) { out.append("breaker.cooldown: must be between 0 and 3600 seconds, got \(cooldown)") }
        return out
    }
}
