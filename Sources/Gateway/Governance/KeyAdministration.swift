public import Foundation
public import SemanticCache

/// Creating, changing, rotating and revoking keys and tenants on a store: what the admin API
/// does on a running gateway (then reloads its key table) and `deja keys` does on the file.
public struct KeyAdministration: Sendable {
    public let store: any GovernanceStore
    let clock: any CacheClock

    public init(store: any GovernanceStore, clock: any CacheClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// Creates a key; its tenant is created (without limits) when it does not exist yet.
    /// - Returns: the key and its secret, which is nowhere else.
    public func createKey(_ spec: KeySpec) async throws -> (key: VirtualKey, secret: String) {
        guard let tenantID = spec.tenant, Tenant.isName(tenantID) else {
            throw GovernanceError.invalid("tenant: name the key's tenant (1 to 64 letters, digits, '-', '_' or '.')")
        }
        try check(spec.problems)
        let now = clock.now()
        if try await store.tenants().first(where: { $0.id == tenantID }) == nil {
            try await store.save(Tenant(id: tenantID, createdAt: now))
        }
        let secret = KeySecret.make()
        let key = VirtualKey(
            id: KeySecret.makeID(), tenant: tenantID, name: spec.name ?? "", digest: KeySecret.hexDigest(secret),
            limits: spec.limits, cacheScope: spec.cacheScope, metadata: spec.metadata ?? [:], createdAt: now,
            expiresAt: spec.expiry(now: now))
        try await store.save(key)
        return (key, secret)
    }

    /// Changes the fields `spec` gives (not the tenant).
    public func updateKey(_ id: String, _ spec: KeySpec) async throws -> VirtualKey {
        try check(spec.problems)
        var key = try await key(id)
        if let tenant = spec.tenant, tenant != key.tenant {
            throw GovernanceError.invalid("tenant: a key stays in its tenant; create a new key in '\(tenant)' instead")
        }
        if let name = spec.name { key.name = name }
        key.limits = key.limits.merged(spec.limits)
        if let scope = spec.cacheScope { key.cacheScope = scope }
        if let metadata = spec.metadata { key.metadata = metadata }
        if let expiry = spec.expiry(now: clock.now()) { key.expiresAt = expiry }
        try await store.save(key)
        return key
    }

    /// Revokes a key: refused from its next request on.
    public func revokeKey(_ id: String) async throws -> VirtualKey {
        var key = try await key(id)
        if key.revokedAt == nil { key.revokedAt = clock.now() }
        try await store.save(key)
        return key
    }

    /// Issues a new key with the old one's tenant, limits and scope; the old one stays valid for
    /// `grace` seconds (0: refused at once), so that clients can move over.
    public func rotateKey(_ id: String, grace: Double) async throws -> (key: VirtualKey, secret: String) {
        guard grace >= 0 else { throw GovernanceError.invalid("grace_seconds: must be 0 or more, got \(grace)") }
        var old = try await key(id)
        guard old.revokedAt == nil else { throw GovernanceError.invalid("\(id) is revoked; create a new key instead") }
        let now = clock.now()
        let secret = KeySecret.make()
        let fresh = VirtualKey(
            id: KeySecret.makeID(), tenant: old.tenant, name: old.name, digest: KeySecret.hexDigest(secret), limits: old.limits,
            cacheScope: old.cacheScope, metadata: old.metadata, createdAt: now, expiresAt: old.expiresAt)
        try await store.save(fresh)
        let end = now.addingTimeInterval(grace)
        old.expiresAt = min(old.expiresAt ?? end, end)
        old.replacedBy = fresh.id
        try await store.save(old)
        return (fresh, secret)
    }

    public func key(_ id: String) async throws -> VirtualKey {
        guard let key = try await store.keys().first(where: { $0.id == id }) else {
            throw GovernanceError.notFound("No key '\(id)'; `deja keys list` shows the keys")
        }
        return key
    }

    public func createTenant(_ spec: TenantSpec) async throws -> Tenant {
        guard let id = spec.id, Tenant.isName(id) else {
            throw GovernanceError.invalid("id: name the tenant (1 to 64 letters, digits, '-', '_' or '.')")
        }
        try check(spec.problems)
        guard try await store.tenants().first(where: { $0.id == id }) == nil else {
            throw GovernanceError.invalid("The tenant '\(id)' exists; change it with PATCH /v1/admin/tenants/\(id)")
        }
        let tenant = Tenant(
            id: id, limits: spec.limits, cacheScope: spec.cacheScope, metadata: spec.metadata ?? [:], createdAt: clock.now(),
            expiresAt: spec.expiresAt.map(Date.init(timeIntervalSince1970:)))
        try await store.save(tenant)
        return tenant
    }

    public func updateTenant(_ id: String, _ spec: TenantSpec) async throws -> Tenant {
        try check(spec.problems)
        var tenant = try await tenant(id)
        tenant.limits = tenant.limits.merged(spec.limits)
        if let scope = spec.cacheScope { tenant.cacheScope = scope }
        if let metadata = spec.metadata { tenant.metadata = metadata }
        if let e = spec.expiresAt { tenant.expiresAt = Date(timeIntervalSince1970: e) }
        try await store.save(tenant)
        return tenant
    }

    /// Deletes a tenant that has no key left that is not revoked.
    public func deleteTenant(_ id: String) async throws {
        _ = try await tenant(id)
        let live = try await store.keys().filter { $0.tenant == id && $0.revokedAt == nil }
        guard live.isEmpty else {
            throw GovernanceError.invalid("The tenant '\(id)' has \(live.count) key(s) not revoked; revoke them first")
        }
        _ = try await store.deleteTenant(id)
    }

    public func tenant(_ id: String) async throws -> Tenant {
        guard let tenant = try await store.tenants().first(where: { $0.id == id }) else {
            throw GovernanceError.notFound("No tenant '\(id)'")
        }
        return tenant
    }

    /// Keys as shown, with what each spent this day and month.
    public func keyViews(tenant: String? = nil) async throws -> [KeyView] {
        let now = clock.now()
        let spend = try await spending(now: now)
        return try await store.keys().filter { tenant == nil || $0.tenant == tenant }.map { key in
            var view = KeyView(key, now: now)
            (view.spentDay, view.spentMonth) = (spend.day.byKey[key.id] ?? 0, spend.month.byKey[key.id] ?? 0)
            return view
        }
    }

    public func keyView(_ id: String) async throws -> KeyView {
        let key = try await key(id)
        let now = clock.now()
        let spend = try await spending(now: now)
        var view = KeyView(key, now: now)
        (view.spentDay, view.spentMonth) = (spend.day.byKey[key.id] ?? 0, spend.month.byKey[key.id] ?? 0)
        return view
    }

    /// Tenants as shown, with their live keys and what they spent this day and month.
    public func tenantViews() async throws -> [TenantView] {
        let keys = try await store.keys()
        let now = clock.now()
        let spend = try await spending(now: now)
        return try await store.tenants().map { t in
            var view = TenantView(t, keys: keys.filter { $0.tenant == t.id && ["active", "rotating"].contains($0.status(at: now)) }.count)
            (view.spentDay, view.spentMonth) = (spend.day.byTenant[t.id] ?? 0, spend.month.byTenant[t.id] ?? 0)
            return view
        }
    }

    /// What the ledger holds as spent this UTC day and month.
    func spending(now: Date) async throws
        -> (day: (byKey: [String: Double], byTenant: [String: Double]), month: (byKey: [String: Double], byTenant: [String: Double]))
    {
        (try await store.spend(since: BudgetPeriod.day.bounds(of: now).start),
         try await store.spend(since: BudgetPeriod.month.bounds(of: now).start))
    }

    private func check(_ problems: [String]) throws {
        if !problems.isEmpty { throw GovernanceError.invalid(problems.joined(separator: "; ")) }
    }
}
