public import Foundation

/// The fields of a key as the admin API and `deja keys` take them: create (all), update
/// (those given). Limits are fields of the same object (`rpm`, `budget_usd`, ...).
public struct KeySpec: Codable, Sendable, Equatable {
    public var tenant: String?
    public var name: String?
    public var limits: Limits
    public var cacheScope: String?
    public var metadata: [String: String]?
    /// Seconds since 1970.
    public var expiresAt: Double?
    /// Seconds from now; the same as `expires_at` in relative form.
    public var expiresIn: Double?

    public init(
        tenant: String? = nil, name: String? = nil, limits: Limits = Limits(), cacheScope: String? = nil,
        metadata: [String: String]? = nil, expiresAt: Double? = nil, expiresIn: Double? = nil
    ) {
        self.tenant = tenant
        self.name = name
        self.limits = limits
        self.cacheScope = cacheScope
        self.metadata = metadata
        self.expiresAt = expiresAt
        self.expiresIn = expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case tenant, name, cacheScope = "cache_scope", metadata, expiresAt = "expires_at", expiresIn = "expires_in"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tenant = try c.decodeIfPresent(String.self, forKey: .tenant)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        cacheScope = try c.decodeIfPresent(String.self, forKey: .cacheScope)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata)
        expiresAt = try c.decodeIfPresent(Double.self, forKey: .expiresAt)
        expiresIn = try c.decodeIfPresent(Double.self, forKey: .expiresIn)
        limits = try Limits(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(tenant, forKey: .tenant)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(cacheScope, forKey: .cacheScope)
        try c.encodeIfPresent(metadata, forKey: .metadata)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try c.encodeIfPresent(expiresIn, forKey: .expiresIn)
        try limits.encode(to: encoder)
    }

    /// The expiry it asks for, if any.
    func expiry(now: Date) -> Date? {
        if let expiresAt { return Date(timeIntervalSince1970: expiresAt) }
        if let expiresIn { return now.addingTimeInterval(expiresIn) }
        return nil
    }

    var problems: [String] {
        var out = limits.problems
        if let scope = cacheScope, !Tenant.isName(scope) {
            out.append("cache_scope: must be 1 to 64 letters, digits, '-', '_' or '.', got '\(scope)'")
        }
        if let e = expiresIn, !(e > 0) { out.append("expires_in: must be a positive number of seconds, got \(e)") }
        if expiresAt != nil && expiresIn != nil { out.append("expires_at, expires_in: give one of them, not both") }
        return out
    }
}
