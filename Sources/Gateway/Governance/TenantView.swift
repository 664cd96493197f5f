public import Foundation

/// A tenant as the admin API and `deja tenants` show it, with what it has spent this period.
public struct TenantView: Codable, Sendable {
    public var object = "deja.tenant"
    public var id: String
    public var limits: Limits
    public var cacheScope: String?
    public var metadata: [String: String]
    public var createdAt: Double
    public var expiresAt: Double?
    /// Active keys.
    public var keys: Int

    /// Provider cost in dollars so far this UTC day and month, from the usage ledger.
    public var spentDay: Double?
    public var spentMonth: Double?

    enum CodingKeys: String, CodingKey {
        case spentDay = "spent_day", spentMonth = "spent_month"
        case object, id, cacheScope = "cache_scope", metadata, createdAt = "created_at", expiresAt = "expires_at", keys
    }

    public init(_ tenant: Tenant, keys: Int) {
        id = tenant.id
        limits = tenant.limits
        cacheScope = tenant.cacheScope
        metadata = tenant.metadata
        createdAt = tenant.createdAt.timeIntervalSince1970
        expiresAt = tenant.expiresAt?.timeIntervalSince1970
        self.keys = keys
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        cacheScope = try c.decodeIfPresent(String.self, forKey: .cacheScope)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        createdAt = try c.decode(Double.self, forKey: .createdAt)
        expiresAt = try c.decodeIfPresent(Double.self, forKey: .expiresAt)
        keys = try c.decodeIfPresent(Int.self, forKey: .keys) ?? 0
        spentDay = try c.decodeIfPresent(Double.self, forKey: .spentDay)
        spentMonth = try c.decodeIfPresent(Double.self, forKey: .spentMonth)
        limits = try Limits(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(object, forKey: .object)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(cacheScope, forKey: .cacheScope)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try c.encode(keys, forKey: .keys)
        try c.encodeIfPresent(spentDay, forKey: .spentDay)
        try c.encodeIfPresent(spentMonth, forKey: .spentMonth)
        try limits.encode(to: encoder)
    }
}
