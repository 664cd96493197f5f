public import Foundation

/// A Deja key as the store keeps it: never the secret, only its SHA-256.
public struct VirtualKey: Codable, Sendable, Equatable {
    /// `key_` and 16 hex digits: what logs, the ledger and the admin API name a key by.
    public var id: String
    public var tenant: String
    public var name: String
    /// The SHA-256 of the secret, in hex.
    public var digest: String
    public var limits: Limits
    /// Overrides the tenant's cache scope for this key.
    public var cacheScope: String?
    public var metadata: [String: String]
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    /// The key that replaced this one in a rotation; this one lives on until `expiresAt`.
    public var replacedBy: String?

    public init(
        id: String, tenant: String, name: String, digest: String, limits: Limits = Limits(), cacheScope: String? = nil,
        metadata: [String: String] = [:], createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil,
        replacedBy: String? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.digest = digest
        self.limits = limits
        self.cacheScope = cacheScope
        self.metadata = metadata
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.replacedBy = replacedBy
    }

    /// `active`, `rotating` (replaced, valid until its grace ends), `expired` or `revoked`.
    public func status(at now: Date) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, expiresAt <= now { return "expired" }
        return replacedBy == nil ? "active" : "rotating"
    }
}
