/// What is checked in requests and answers (`guards:`): input limits, DLP, deny-lists and the
/// prompt-injection guard.
public struct GuardsConfiguration: Codable, Sendable, Equatable {
    public var limits: InputLimits
    public var dlp: DLPConfiguration
    public var deny: [DenyList]
    public var injection: InjectionConfiguration

    public init(limits: InputLimits = .init(), dlp: DLPConfiguration = .init(), deny: [DenyList] = [], injection: InjectionConfiguration = .init()) {
        self.limits = limits
        self.dlp = dlp
        self.deny = deny
        self.injection = injection
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        limits = try c.decodeIfPresent(InputLimits.self, forKey: .limits) ?? .init()
        dlp = try c.decodeIfPresent(DLPConfiguration.self, forKey: .dlp) ?? .init()
        deny = try c.decodeIfPresent([DenyList].self, forKey: .deny) ?? []
        injection = try c.decodeIfPresent(InjectionConfiguration.self, forKey: .injection) ?? .init()
    }

    var problems: [String] {
        var out = limits.problems + dlp.problems + injection.problems
        for (i, list) in deny.enumerated() { out += list.problems(at: "guards.deny[\(i)]") }
        return out
    }
}
