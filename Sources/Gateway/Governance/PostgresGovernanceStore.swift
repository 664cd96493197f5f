public import Foundation
public import Logging
import PostgresNIO
public import SemanticCache

/// Keys, tenants, the usage ledger and the per-minute buckets in PostgreSQL
/// (`governance.store: postgres://...`), shared by every instance pointed at it: a key made on
/// one works on all (within `governance.reload_interval`), a budget counts what all spent, and a
/// rate limit is one bucket that instances take leases from.
///
/// Money spent is also summed per UTC day, key and tenant in `deja_spend`, in the transaction
/// that writes the ledger rows: what budgets read every flush is a few rows, not a month of ledger.
/// A change of keys or tenants is announced with `NOTIFY deja_governance`, and every instance
/// reloads its key table at once (``KeyFollowerService``).
public final class PostgresGovernanceStore: SharedLimitStore {
    private let database: PostgresPool
    public var location: String { database.location }
    /// Notifications of changed keys and tenants from any instance (`NOTIFY deja_governance`).
    private let notified = PostgresNotifications()
    private let listening: Task<Void, Never>
    static let channel = "deja_governance"

    /// Connects to `url` and creates the tables. A URL without a password takes `password`.
    /// - Throws: ``GovernanceError/store(_:)`` when the URL is not one or the server cannot be reached.
    public init(url: String, password: String?, logger: Logger) async throws(GovernanceError) {
        do {
            database = try await PostgresPool(url: url, password: password, field: "governance.store", logger: logger)
        } catch {
            throw .store("\(error)")
        }
        do {
            try await database.migrate("governance_schema", lock: 7478237, Self.schemaV1)
            try await database.migrate("governance_schema_v2", lock: 7478237, Self.schemaV2)
        } catch {
            database.close()
            throw .store("\(error)")
        }
        listening = database.listen(on: Self.channel, notified, logger: logger)
    }

    deinit {
        listening.cancel()
        database.close()
    }

    public func waitForKeyChanges(timeout: Double) async {
        await notified.wait(timeout: .milliseconds(Int64(timeout * 1000)))
    }

    /// Tells every instance that keys or tenants changed, so that a revocation applies everywhere
    /// at once rather than at the next reload.
    private func announce() async throws {
        _ = try await database.query("announcing a change of keys", "SELECT pg_notify(\(Self.channel), '')")
    }

    static let schemaV1 = [
        "CREATE TABLE deja_tenant (id text PRIMARY KEY, record text NOT NULL)",
        "CREATE TABLE deja_key (id text PRIMARY KEY, tenant text NOT NULL, digest text NOT NULL UNIQUE, record text NOT NULL)",
        """
        CREATE TABLE deja_usage (
            at double precision NOT NULL, request_id text NOT NULL, key_id text, tenant text NOT NULL, route text NOT NULL,
            model text, upstream_model text, provider text, status bigint NOT NULL, latency_ms double precision NOT NULL,
            first_token_ms double precision, prompt_tokens bigint NOT NULL, cached_tokens bigint NOT NULL,
            completion_tokens bigint NOT NULL, cost double precision NOT NULL, saved_prompt_tokens bigint NOT NULL,
            saved_completion_tokens bigint NOT NULL, saved_cost double precision NOT NULL, cache text, similarity double precision)
        """,
        "CREATE INDEX deja_usage_at ON deja_usage (at)",
        "CREATE TABLE deja_spend (day bigint NOT NULL, key_id text NOT NULL, tenant text NOT NULL, cost double precision NOT NULL, PRIMARY KEY (day, key_id, tenant))",
        "CREATE TABLE deja_bucket (holder text NOT NULL, kind smallint NOT NULL, level double precision NOT NULL, updated double precision NOT NULL, PRIMARY KEY (holder, kind))",
    ]

    /// The ledger's flushes already written (`append(_:batch:)`), kept a day.
    static let schemaV2 = [
        "CREATE TABLE deja_usage_batch (id text PRIMARY KEY, at double precision NOT NULL)",
        "CREATE INDEX deja_usage_batch_at ON deja_usage_batch (at)",
    ]

    private func records<T: Decodable>(_ type: T.Type, _ what: String, _ sql: PostgresQuery) async throws -> [T] {
        try await database.query(what, sql).map { row in
            try GovernanceJSON.decoder.decode(T.self, from: Data(try row["record"].decode(String.self).utf8))
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try GovernanceJSON.encoder.encode(value), as: UTF8.self)
    }

    public func tenants() async throws -> [Tenant] {
        try await records(Tenant.self, "reading tenants", "SELECT record FROM deja_tenant ORDER BY id")
    }

    public func save(_ tenant: Tenant) async throws {
        let record = try Self.json(tenant)
        _ = try await database.query("saving tenant \(tenant.id)", """
            INSERT INTO deja_tenant (id, record) VALUES (\(tenant.id), \(record))
            ON CONFLICT (id) DO UPDATE SET record = excluded.record
            """)
        try await announce()
    }

    public func deleteTenant(_ id: String) async throws -> Bool {
        let deleted = !(try await database.query("deleting tenant \(id)", "DELETE FROM deja_tenant WHERE id = \(id) RETURNING id").isEmpty)
        try await announce()
        return deleted
    }

    public func keys() async throws -> [VirtualKey] {
        try await records(VirtualKey.self, "reading keys", "SELECT record FROM deja_key ORDER BY id")
    }

    public func save(_ key: VirtualKey) async throws {
        let record = try Self.json(key)
        _ = try await database.query("saving key \(key.id)", """
            INSERT INTO deja_key (id, tenant, digest, record) VALUES (\(key.id), \(key.tenant), \(key.digest), \(record))
            ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, digest = excluded.digest, record = excluded.record
            """)
        try await announce()
    }

    /// The day a ledger row's cost is summed under: days since 1970, UTC.
    static func day(_ at: Double) -> Int64 { Int64((at / 86_400).rounded(.down)) }

    public func append(_ rows: [UsageRecord], batch: UUID) async throws {
        guard !rows.isEmpty else { return }
        struct SpendKey: Hashable { var day: Int64, key: String, tenant: String }
        var spend: [SpendKey: Double] = [:]
        for r in rows where r.cost != 0 { spend[SpendKey(day: Self.day(r.at), key: r.keyID ?? "", tenant: r.tenant), default: 0] += r.cost }
        let sums = spend
        // The timeout is there to notice a server that is down, not to cut short a large flush
        // on a busy one: it grows by a millisecond a row (12,000 rows took over 5 s on a loaded
        // 2-core CI machine).
        let timeout = PostgresPool.operationTimeout + .milliseconds(rows.count)
        let now = Date().timeIntervalSince1970
        try await database.transaction("writing \(rows.count) usage rows", timeout: timeout) { c in
            // A flush that timed out here may still have committed: its retry finds its id.
            let fresh = try await c.query(
                "INSERT INTO deja_usage_batch (id, at) VALUES (\(batch.uuidString), \(now)) ON CONFLICT (id) DO NOTHING RETURNING 1",
                logger: PostgresPool.quiet
            ).collect()
            guard !fresh.isEmpty else { return }
            try await c.query(
                "DELETE FROM deja_usage_batch WHERE at < \(now - UsageLedger.batchMemory)", logger: PostgresPool.quiet)
            // A statement per 5,000 rows, each column one array: a flush of a busy second is a few
            // round trips, not one per request (which fell behind at 10,000 requests a second).
            for start in stride(from: 0, to: rows.count, by: 5_000) {
                try await c.query(Self.insertRows(rows[start..<min(rows.count, start + 5_000)]), logger: PostgresPool.quiet)
            }
            for (k, cost) in sums {
                try await c.query("""
                    INSERT INTO deja_spend (day, key_id, tenant, cost) VALUES (\(k.day), \(k.key), \(k.tenant), \(cost))
                    ON CONFLICT (day, key_id, tenant) DO UPDATE SET cost = deja_spend.cost + excluded.cost
                    """, logger: PostgresPool.quiet)
            }
        }
    }

    /// One `INSERT ... SELECT FROM unnest(...)` of `rows`. Absent values travel as `''` (text)
    /// and NaN (numbers) and become NULL again in the statement.
    static func insertRows(_ rows: ArraySlice<UsageRecord>) -> PostgresQuery {
        var sql = PostgresQuery(unsafeSQL: """
            INSERT INTO deja_usage (at, request_id, key_id, tenant, route, model, upstream_model, provider, status, latency_ms,
                first_token_ms, prompt_tokens, cached_tokens, completion_tokens, cost, saved_prompt_tokens,
                saved_completion_tokens, saved_cost, cache, similarity)
            SELECT at, request_id, NULLIF(key_id, ''), tenant, route, NULLIF(model, ''), NULLIF(upstream_model, ''), NULLIF(provider, ''),
                status, latency_ms, NULLIF(first_token_ms, 'NaN'::float8), prompt_tokens, cached_tokens, completion_tokens, cost,
                saved_prompt_tokens, saved_completion_tokens, saved_cost, NULLIF(cache, ''), NULLIF(similarity, 'NaN'::float8)
            FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[],
                $10::float8[], $11::float8[], $12::int8[], $13::int8[], $14::int8[], $15::float8[], $16::int8[], $17::int8[],
                $18::float8[], $19::text[], $20::float8[])
                AS r(at, request_id, key_id, tenant, route, model, upstream_model, provider, status, latency_ms, first_token_ms,
                    prompt_tokens, cached_tokens, completion_tokens, cost, saved_prompt_tokens, saved_completion_tokens, saved_cost,
                    cache, similarity)
            """)
        func text(_ value: (UsageRecord) -> String?) { sql.binds.append(rows.map { value($0) ?? "" }, context: .default) }
        func number(_ value: (UsageRecord) -> Double?) { sql.binds.append(rows.map { value($0) ?? .nan }, context: .default) }
        func whole(_ value: (UsageRecord) -> Int) { sql.binds.append(rows.map(value), context: .default) }
        number { $0.at }
        text { $0.requestID }
        text { $0.keyID }
        text { $0.tenant }
        text { $0.route }
        text { $0.model }
        text { $0.upstreamModel }
        text { $0.provider }
        whole { $0.status }
        number { $0.latencyMs }
        number { $0.firstTokenMs }
        whole { $0.promptTokens }
        whole { $0.cachedTokens }
        whole { $0.completionTokens }
        number { $0.cost }
        whole { $0.savedPromptTokens }
        whole { $0.savedCompletionTokens }
        number { $0.savedCost }
        text { $0.cache }
        number { $0.similarity.map { Double($0) } }
        return sql
    }

    public func usage(_ query: UsageQuery) async throws -> [UsageSummary] {
        let group: String
        switch query.by {
        case nil: group = "'all'"
        case .key?: group = "coalesce(key_id, '-')"
        case .tenant?: group = "CASE tenant WHEN '' THEN '-' ELSE tenant END"
        case .model?: group = "coalesce(model, '-')"
        case .day?: group = "to_char(to_timestamp(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        case .hour?: group = "to_char(to_timestamp(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00')"
        }
        func count(_ condition: String) -> String { "coalesce(sum(CASE WHEN \(condition) THEN 1 ELSE 0 END), 0)::bigint" }
        func total(_ expression: String) -> String { "coalesce(sum(\(expression)), 0)::bigint" }
        var sql = PostgresQuery(unsafeSQL: """
            SELECT \(group) AS grp, count(*)::bigint, \(count("cache = 'hit'")), \(count("cache = 'semantic-hit'")), \(count("status = 429")),
                \(count("status >= 400 AND status != 429")), \(total("prompt_tokens")), \(total("cached_tokens")),
                \(total("completion_tokens")), coalesce(sum(cost), 0),
                \(total("CASE WHEN cache = 'hit' THEN saved_prompt_tokens + saved_completion_tokens ELSE 0 END")),
                \(total("CASE WHEN cache = 'semantic-hit' THEN saved_prompt_tokens + saved_completion_tokens ELSE 0 END")),
                coalesce(sum(CASE WHEN cache = 'hit' THEN saved_cost ELSE 0 END), 0),
                coalesce(sum(CASE WHEN cache = 'semantic-hit' THEN saved_cost ELSE 0 END), 0)
            FROM deja_usage WHERE at >= $1 GROUP BY grp ORDER BY grp
            """)
        sql.binds.append(query.since, context: .default)
        return try await database.query("reading usage", sql).map { row in
            func int(_ i: Int) throws -> Int { try row[i].decode(Int.self) }
            func double(_ i: Int) throws -> Double { try row[i].decode(Double.self) }
            return UsageSummary(
                group: try row[0].decode(String.self), requests: try int(1), exactHits: try int(2), semanticHits: try int(3),
                refused: try int(4), errors: try int(5), promptTokens: try int(6), cachedTokens: try int(7), completionTokens: try int(8),
                cost: try double(9), savedTokensExact: try int(10), savedTokensSemantic: try int(11), savedCostExact: try double(12),
                savedCostSemantic: try double(13))
        }
    }

    /// From the daily sums: exact for `date` at the start of a UTC day, which budget periods are.
    public func spend(since date: Date) async throws -> (byKey: [String: Double], byTenant: [String: Double]) {
        let rows = try await database.query("reading spend", """
            SELECT key_id, tenant, sum(cost) FROM deja_spend WHERE day >= \(Self.day(date.timeIntervalSince1970)) GROUP BY key_id, tenant
            """)
        var byKey: [String: Double] = [:]
        var byTenant: [String: Double] = [:]
        for row in rows {
            let key = try row[0].decode(String.self), tenant = try row[1].decode(String.self), cost = try row[2].decode(Double.self)
            if !key.isEmpty { byKey[key, default: 0] += cost }
            if !tenant.isEmpty { byTenant[tenant, default: 0] += cost }
        }
        return (byKey, byTenant)
    }

    public func deleteUsage(before date: Date) async throws -> Int {
        let at = date.timeIntervalSince1970
        return try await database.transaction("deleting old usage rows") { c in
            let n = try await c.query("WITH gone AS (DELETE FROM deja_usage WHERE at < \(at) RETURNING 1) SELECT count(*)::bigint FROM gone", logger: PostgresPool.quiet)
                .collect().first?.decode(Int.self) ?? 0
            // The daily sums go with the last day that has no row left; a budget never looks back a month.
            try await c.query("DELETE FROM deja_spend WHERE day < \(Self.day(at) - 31)", logger: PostgresPool.quiet)
            return n
        }
    }

    public func exchange(_ leases: [BucketLease], now: Double) async throws -> [BucketGrant] {
        guard !leases.isEmpty else { return [] }
        // Rows locked in one order by every instance, so that two exchanges never deadlock.
        let order = leases.indices.sorted { (leases[$0].holder, leases[$0].kind.rawValue) < (leases[$1].holder, leases[$1].kind.rawValue) }
        let grants = try await database.transaction("exchanging \(leases.count) rate-limit leases") { c in
            var out = [BucketGrant](repeating: BucketGrant(granted: 0, left: 0), count: leases.count)
            for i in order {
                let l = leases[i]
                let capacity = Double(l.capacity)
                try await c.query("""
                    INSERT INTO deja_bucket (holder, kind, level, updated) VALUES (\(l.holder), \(l.kind.rawValue), \(capacity), \(now))
                    ON CONFLICT (holder, kind) DO NOTHING
                    """, logger: PostgresPool.quiet)
                let (stored, updated) = try await c.query(
                    "SELECT level, updated FROM deja_bucket WHERE holder = \(l.holder) AND kind = \(l.kind.rawValue) FOR UPDATE",
                    logger: PostgresPool.quiet
                ).collect().first!.decode((Double, Double).self)
                let refilled = min(capacity, stored + max(0, now - updated) * capacity / 60)
                let level = min(capacity, refilled + l.returned)
                let granted = max(0, min(l.wanted, level))
                try await c.query("""
                    UPDATE deja_bucket SET level = \(level - granted), updated = \(max(updated, now))
                    WHERE holder = \(l.holder) AND kind = \(l.kind.rawValue)
                    """, logger: PostgresPool.quiet)
                out[i] = BucketGrant(granted: granted, left: level - granted)
            }
            return out
        }
        return grants
    }
}
