public import Foundation
import GRDB

/// Keys, tenants and the usage ledger in one SQLite file (GRDB, WAL), apart from the cache's
/// file so that ledger writes never wait for cache writes. Not locked to one process: `deja keys`
/// edits it while the gateway runs, and the gateway reloads it (`governance.reload_interval`).
///
/// Keys and tenants are stored as their JSON beside the columns they are found by; the ledger is
/// one row per request with an index on time.
public struct SQLiteGovernanceStore: GovernanceStore {
    private let database: DatabasePool
    public let location: String

    /// Opens (creating if needed) the store at `path` and migrates it.
    /// - Throws: ``GovernanceError/store(_:)`` naming the file and the problem.
    public init(path: String) throws(GovernanceError) {
        location = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw .store("cannot open the governance store \(path): \(error)")
        }
    }

    /// The schema's history; a migration is never edited once released.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-governance") { db in
            try db.create(table: "tenant") { t in
                t.column("id", .text).primaryKey()
                t.column("record", .text).notNull()
            }
            try db.create(table: "key") { t in
                t.column("id", .text).primaryKey()
                t.column("tenant", .text).notNull().indexed()
                t.column("digest", .text).notNull().unique()
                t.column("record", .text).notNull()
            }
            try db.create(table: "usage") { t in
                t.column("at", .double).notNull().indexed()
                t.column("request_id", .text).notNull()
                t.column("key_id", .text)
                t.column("tenant", .text).notNull()
                t.column("route", .text).notNull()
                t.column("model", .text)
                t.column("upstream_model", .text)
                t.column("provider", .text)
                t.column("status", .integer).notNull()
                t.column("latency_ms", .double).notNull()
                t.column("first_token_ms", .double)
                t.column("prompt_tokens", .integer).notNull()
                t.column("cached_tokens", .integer).notNull()
                t.column("completion_tokens", .integer).notNull()
                t.column("cost", .double).notNull()
                t.column("saved_prompt_tokens", .integer).notNull()
                t.column("saved_completion_tokens", .integer).notNull()
                t.column("saved_cost", .double).notNull()
                t.column("cache", .text)
                t.column("similarity", .double)
            }
        }
        migrator.registerMigration("v2-usage-batches") { db in
            // The ledger's flushes already written (`append(_:batch:)`), kept a day.
            try db.create(table: "usage_batch") { t in
                t.column("id", .text).primaryKey()
                t.column("at", .double).notNull().indexed()
            }
        }
        return migrator
    }

    public func tenants() async throws -> [Tenant] {
        try await records(Tenant.self, sql: "SELECT record FROM tenant ORDER BY id")
    }

    /// The JSON records a query selects, decoded.
    private func records<T: Decodable & Sendable>(_ type: T.Type, sql: String) async throws -> [T] {
        try await database.read { db in
            try String.fetchAll(db, sql: sql).map { try GovernanceJSON.decoder.decode(T.self, from: Data($0.utf8)) }
        }
    }

    public func save(_ tenant: Tenant) async throws {
        let record = String(decoding: try GovernanceJSON.encoder.encode(tenant), as: UTF8.self)
        try await database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO tenant (id, record) VALUES (?, ?)", arguments: [tenant.id, record])
        }
    }

    public func deleteTenant(_ id: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM tenant WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func keys() async throws -> [VirtualKey] {
        try await records(VirtualKey.self, sql: "SELECT record FROM key ORDER BY id")
    }

    public func save(_ key: VirtualKey) async throws {
        let record = String(decoding: try GovernanceJSON.encoder.encode(key), as: UTF8.self)
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO key (id, tenant, digest, record) VALUES (?, ?, ?, ?)",
                arguments: [key.id, key.tenant, key.digest, record])
        }
    }

    public func append(_ rows: [UsageRecord], batch: UUID) async throws {
        guard !rows.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO usage_batch (id, at) VALUES (?, ?)", arguments: [batch.uuidString, now])
            guard db.changesCount == 1 else { return }  // written before
            try db.execute(sql: "DELETE FROM usage_batch WHERE at < ?", arguments: [now - UsageLedger.batchMemory])
            let insert = try UsageInsert(db)
            for r in rows { try insert.insert(r) }
        }
    }

    public func usage(_ query: UsageQuery) async throws -> [UsageSummary] {
        let group: String
        switch query.by {
        case nil: group = "'all'"
        case .key?: group = "coalesce(key_id, '-')"
        case .tenant?: group = "CASE tenant WHEN '' THEN '-' ELSE tenant END"
        case .model?: group = "coalesce(model, '-')"
        case .day?: group = "strftime('%Y-%m-%d', at, 'unixepoch')"
        case .hour?: group = "strftime('%Y-%m-%dT%H:00', at, 'unixepoch')"
        }
        let sql = """
            SELECT \(group) AS grp, count(*), sum(cache = 'hit'), sum(cache = 'semantic-hit'), sum(status = 429),
                sum(status >= 400 AND status != 429), sum(prompt_tokens), sum(cached_tokens), sum(completion_tokens), sum(cost),
                sum(CASE WHEN cache = 'hit' THEN saved_prompt_tokens + saved_completion_tokens ELSE 0 END),
                sum(CASE WHEN cache = 'semantic-hit' THEN saved_prompt_tokens + saved_completion_tokens ELSE 0 END),
                sum(CASE WHEN cache = 'hit' THEN saved_cost ELSE 0 END),
                sum(CASE WHEN cache = 'semantic-hit' THEN saved_cost ELSE 0 END)
            FROM usage WHERE at >= ? GROUP BY grp ORDER BY grp
            """
        return try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [query.since]).map { row in
                UsageSummary(
                    group: row[0] as String, requests: row[1] as Int, exactHits: row[2] ?? 0, semanticHits: row[3] ?? 0, refused: row[4] ?? 0,
                    errors: row[5] ?? 0, promptTokens: row[6] ?? 0, cachedTokens: row[7] ?? 0, completionTokens: row[8] ?? 0,
                    cost: row[9] ?? 0, savedTokensExact: row[10] ?? 0, savedTokensSemantic: row[11] ?? 0,
                    savedCostExact: row[12] ?? 0, savedCostSemantic: row[13] ?? 0)
            }
        }
    }

    public func spend(since date: Date) async throws -> (byKey: [String: Double], byTenant: [String: Double]) {
        try await database.read { db in
            var byKey: [String: Double] = [:]
            var byTenant: [String: Double] = [:]
            let since = date.timeIntervalSince1970
            for row in try Row.fetchAll(
                db, sql: "SELECT key_id, sum(cost) FROM usage WHERE at >= ? AND key_id IS NOT NULL GROUP BY key_id",
                arguments: [since])
            {
                byKey[row[0]] = row[1]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT tenant, sum(cost) FROM usage WHERE at >= ? AND tenant != '' GROUP BY tenant", arguments: [since])
            {
                byTenant[row[0]] = row[1]
            }
            return (byKey, byTenant)
        }
    }

    public func deleteUsage(before date: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM usage WHERE at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
