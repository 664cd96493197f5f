/// One place a model's requests can go (`models.NAME.deployments[]`): a provider, the model's
/// name there, a share of the traffic and the provider's own quota for it.
public struct DeploymentConfiguration: Codable, Sendable, Equatable {
    /// A key of `providers`.
    public var provider: String
    /// The model's name at the provider (default: the name the client asked for).
    public var model: String?
    /// Its share of the requests under the `weighted` strategy.
    public var weight: Double
    /// Requests a minute this deployment takes (the provider's quota); 0 none. A full one is
    /// skipped, not queued.
    public var rpm: Int
    /// Tokens a minute, estimated on the way in like the key limits; 0 none.
    public var tpm: Int

    public init(provider: String, model: String? = nil, weight: Double = 1, rpm: Int = 0, tpm: Int = 0) {
        self.provider = provider
        self.model = model
        self.weight = weight
        self.rpm = rpm
        self.tpm = tpm
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? ""
        model = try c.decodeIfPresent(String.self, forKey: .model)
        weight = try c.decodeIfPresent(Double.self, forKey: .weight) ?? 1
        rpm = try c.decodeIfPresent(Int.self, forKey: .rpm) ?? 0
        tpm = try c.decodeIfPresent(Int.self, forKey: .tpm) ?? 0
    }

    func problems(at path: String) -> [String] {
        var out: [String] = []
        if !(weight > 0 && weight <= 1_000_000) { out.append("\(path).weight: must be above 0, got \(weight)") }
        if rpm < 0 { out.append("\(path).rpm: must be 0 (no limit) or more, got \(rpm)") }
        if tpm < 0 { out.append("\(path).tpm: must be 0 (no limit) or more, got \(tpm)") }
        return out
    }
}
