public import Foundation

/// A key as the admin API and `deja keys` show it: everything but its digest; the secret only in
/// the answer that created it.
public struct KeyView: Codable, Sendable {
    public var object = "deja.key"
    public var id: String
    public var tenant: String
    public var name: String
    public var status: String
    public var limits: Limits
    public var cacheScope: String?
    public var metadata: [String: String]
    public var createdAt: Double
    public var expiresAt: Double?
    public var revokedAt: Double?
    public var replacedBy: String?
    /// Only when the key was just made (created or rotated): shown once, never stored.
    public var secret: String?

    /// Provider cost in dollars so far this UTC day and month, from the usage ledger.
    public var spentDay: Double?
    public var spentMonth: Double?

    enum CodingKeys: String, CodingKey {
        case spentDay = "spent_day", spentMonth = "spent_month"
        case object, id, tenant, name, status, cacheScope = "cache_scope", metadata, createdAt = "created_at"
        case expiresAt = "expires_at", revokedAt = "revoked_at", replacedBy = "replaced_by", secret
    }

    public init(_ key: VirtualKey, now: Date, secret: String? = nil) {
        id = key.id
        tenant = key.tenant
        name = key.name
        status = key.status(at: now)
        limits = key.limits
        cacheScope = key.cacheScope
        metadata = key.metadata
        createdAt = key.createdAt.timeIntervalSince1970
        expiresAt = key.expiresAt?.timeIntervalSince1970
        revokedAt = key.revokedAt?.timeIntervalSince1970
        replacedBy = key.replacedBy
        self.secret = secret
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        tenant = try c.decode(String.self, forKey: .tenant)
        name = try c.decode(String.self, forKey: .name)
        status = try c.decode(String.self, forKey: .status)
        cacheScope = try c.decodeIfPresent(String.self, forKey: .cacheScope)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        createdAt = try c.decode(Double.self, forKey: .createdAt)
        expiresAt = try c.decodeIfPresent(Double.self, forKey: .expiresAt)
        revokedAt = try c.decodeIfPresent(Double.self, forKey: .revokedAt)
        replacedBy = try c.decodeIfPresent(String.self, forKey: .replacedBy)
        secret = try c.decodeIfPresent(String.self, forKey: .secret)
        spentDay = try c.decodeIfPresent(Double.self, forKey: .spentDay)
        spentMonth = try c.decodeIfPresent(Double.self, forKey: .spentMonth)
        limits = try Limits(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(object, forKey: .object)
        try c.encode(id, forKey: .id)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(cacheScope, forKey: .cacheScope)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try c.encodeIfPresent(revokedAt, forKey: .revokedAt)
        try c.encodeIfPresent(replacedBy, forKey: .replacedBy)
        try c.encodeIfPresent(secret, forKey: .secret)
        try c.encodeIfPresent(spentDay, forKey: .spentDay)
        try c.encodeIfPresent(spentMonth, forKey: .spentMonth)
        try limits.encode(to: encoder)
    }
}
