public import Foundation

/// A group of keys (a team, a customer, an application) with limits and a budget its keys share,
/// and the cache scope its keys' answers live in.
public struct Tenant: Codable, Sendable, Equatable {
    /// Chosen by the admin: letters, digits, `-`, `_` and `.`, at most 64.
    public var id: String
    public var limits: Limits
    /// A named scope shared with other tenants that name it; absent: the tenant's own.
    public var cacheScope: String?
    public var metadata: [String: String]
    public var createdAt: Date
    /// After it, every key of the tenant is refused.
    public var expiresAt: Date?

    public init(
        id: String, limits: Limits = Limits(), cacheScope: String? = nil, metadata: [String: String] = [:],
        createdAt: Date, expiresAt: Date? = nil
    ) {
        self.id = id
        self.limits = limits
        self.cacheScope = cacheScope
        self.metadata = metadata
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether `id` may name a tenant or a cache scope.
    static func isName(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
            }
    }
}
