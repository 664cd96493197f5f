/// What is checked in requests before they are looked up or forwarded (`guards:`).
public struct GuardsConfiguration: Codable, Sendable, Equatable {
    public var limits: InputLimits

    public init(limits: InputLimits = .init()) {
        self.limits = limits
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limits = try c.decodeIfPresent(InputLimits.self, forKey: .limits) ?? .init()
    }

    var problems: [String] { limits.problems }
}
