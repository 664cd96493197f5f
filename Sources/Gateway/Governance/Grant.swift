import Foundation

/// What a request's key entitles it to: the key, its tenant and the cache tenant its answers
/// live under. Built once per key when the key table loads, so that a request carries one
/// reference, not copies of the records.
final class Grant: Sendable {
    let key: VirtualKey
    let tenant: Tenant
    /// The `CacheRequest.tenant` of this key's requests: its scope's, so that tenants share
    /// answers only when they name the same scope.
    let cacheTenant: String
    /// The quota holders this key's requests count against: the key's, then its tenant's.
    let keyHolder: String
    let tenantHolder: String
    /// Whether the key or its tenant has a per-minute limit (and so `x-ratelimit-*` headers).
    let hasRateLimits: Bool

    init(key: VirtualKey, tenant: Tenant) {
        self.key = key
        self.tenant = tenant
        if let scope = key.cacheScope ?? tenant.cacheScope {
            cacheTenant = "scope:" + scope
        } else {
            cacheTenant = "tenant:" + tenant.id
        }
        keyHolder = "k:" + key.id
        tenantHolder = "t:" + tenant.id
        hasRateLimits = key.limits.rpm != nil || key.limits.tpm != nil || tenant.limits.rpm != nil || tenant.limits.tpm != nil
    }

    /// Whether the key and its tenant may ask for `model`.
    func allows(model: String) -> Bool {
        key.limits.allows(model: model) && tenant.limits.allows(model: model)
    }
}
