public import Foundation

/// The fields of a tenant as the admin API and `deja tenants` take them. Limits are fields of
/// the same object.
public struct TenantSpec: Codable, Sendable, Equatable {
    /// Required to create; ignored on update (the path names the tenant).
    public var id: String?
    public var limits: Limits
    public var cacheScope: String?
    public var metadata: [String: String]?
    public var expiresAt: Double?

    public init(id: String? = nil, limits: Limits = Limits(), cacheScope: String? = nil, metadata: [String: String]? = nil,
                expiresAt: Double? = nil)
    {
        self.id = id
        self.limits = limits
        self.cacheScope = cacheScope
        self.metadata = metadata
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, cacheScope = "cache_scope", metadata, expiresAt = "expires_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        cacheScope = try c.decodeIfPresent(String.self, forKey: .cacheScope)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata)
        expiresAt = try c.decodeIfPresent(Double.self, forKey: .expiresAt)
        limits = try Limits(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(cacheScope, forKey: .cacheScope)
        try c.encodeIfPresent(metadata, forKey: .metadata)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try limits.encode(to: encoder)
    }

    var problems: [String] {
        var out = limits.problems
        if let scope = cacheScope, !Tenant.isName(scope) {
            out.append("cache_scope: must be 1 to 64 letters, digits, '-', '_' or '.', got '\(scope)'")
        }
        return out
    }
}
