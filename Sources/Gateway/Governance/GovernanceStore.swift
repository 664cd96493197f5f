public import Foundation

/// Where keys, tenants and the usage ledger are kept: SQLite by default
/// (``SQLiteGovernanceStore``); a shared database for several instances implements the same.
public protocol GovernanceStore: Sendable {
    var location: String { get }
    func tenants() async throws -> [Tenant]
    /// Creates or replaces the tenant of that id.
    func save(_ tenant: Tenant) async throws
    /// - Returns: whether there was one.
    func deleteTenant(_ id: String) async throws -> Bool
    func keys() async throws -> [VirtualKey]
    /// Creates or replaces the key of that id.
    func save(_ key: VirtualKey) async throws
    /// Appends rows to the ledger in one transaction, once per `batch`: a batch the store
    /// already holds is not written again. A flush whose answer was lost (a timeout after the
    /// commit) is repeated with the same id, so that its rows and spend are not counted twice.
    func append(_ rows: [UsageRecord], batch: UUID) async throws
    func usage(_ query: UsageQuery) async throws -> [UsageSummary]
    /// Cost spent since `date`, by key id and by tenant (what budgets start from after a restart).
    func spend(since date: Date) async throws -> (byKey: [String: Double], byTenant: [String: Double])
    /// Deletes the ledger's rows older than `date`; returns how many.
    func deleteUsage(before date: Date) async throws -> Int
}
