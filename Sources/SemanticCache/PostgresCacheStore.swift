public import Foundation
public import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The cache store in PostgreSQL, shared by several Deja instances (`cache.store:
/// postgres://...`). Entries carry their vectors (float32 bytes); each instance searches its own
/// index in process and follows the store's changes (``ChangeFeed``): every insert and delete
/// writes a row to `deja_change` in the same transaction and `NOTIFY deja_cache`, and a
/// follower reads the rows after the last it applied, so a missed notification costs only
/// delay.
public final class PostgresCacheStore: ChangeFeed {
    public let location: String
    private let database: PostgresPool
    /// How many times this store began listening for notifications: once, plus once per
    /// dropped connection it made again.
    public var listens: Int { notified.listens }
    /// This process's name in the upkeep lease.
    private let instance = UUID().uuidString
    private let listening: Task<Void, Never>
    /// The notifications received, and the follower waiting for the next one.
    private let notified = PostgresNotifications()
    static let channel = "deja_cache"

    /// Connects to `url` (`postgres://user:password@host:port/database`) and migrates the schema.
    /// A URL without a password takes `password` (what `PGPASSWORD` holds, as for `psql`).
    ///
    /// - Throws: ``CacheError/store(_:)`` when the URL is not one or the server cannot be reached.
    public init(url: String, password: String? = nil, logger: Logger = Logger(label: "deja.store")) async throws(CacheError) {
        database = try await PostgresPool(url: url, password: password, field: "cache.store", logger: logger)
        location = database.location
        // One connection listens for the other instances' notifications; when it drops, it is
        // made again a second later (the follower's periodic catch-up covers the gap).
        listening = database.listen(on: Self.channel, notified, logger: logger)
        do {
            try await database.migrate("schema", lock: 7478235, Self.schemaV1)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Stops the connections.
    public func close() {
        listening.cancel()
        database.close()
    }

    private func query(_ what: String, _ sql: PostgresQuery) async throws(CacheError) -> [PostgresRandomAccessRow] {
        try await database.query(what, sql)
    }

    private func transaction<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(CacheError) -> T {
        try await database.transaction(what, body)
    }

    private func failed(_ what: String, _ error: any Error) -> CacheError { database.failed(what, error) }

    static let quiet = PostgresPool.quiet

    /// Taken by every transaction that writes a change, until it commits: change numbers then
    /// become visible in the order they were handed out. Without it, a follower could read number
    /// 11 committed before number 10 and, having moved past 10, never apply it.
    static func lockChanges(_ c: PostgresConnection) async throws {
        try await c.query("SELECT pg_advisory_xact_lock(7478236)", logger: quiet)
    }

    /// Records changes of `ids` in `deja_change` and notifies the other instances, in the
    /// caller's transaction (under ``lockChanges(_:)``): both take effect at its commit.
    static func announce(_ kind: StoreChange.Kind, _ ids: [Int64], _ c: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await c.query("INSERT INTO deja_change (kind, entry_id) SELECT \(kind.rawValue), unnest(\(ids))", logger: quiet)
        try await c.query("SELECT pg_notify(\(channel), '')", logger: quiet)
    }

    static let schemaV1 = [
        """
        CREATE TABLE deja_entry (
            id bigserial PRIMARY KEY, namespace text NOT NULL, namespace_label text NOT NULL, exact_key text NOT NULL,
            prompt text NOT NULL, vector bytea, response bytea NOT NULL, model text NOT NULL,
            created_at double precision NOT NULL, expires_at double precision, last_hit_at double precision,
            hit_count bigint NOT NULL DEFAULT 0, prompt_tokens bigint NOT NULL DEFAULT 0, completion_tokens bigint NOT NULL DEFAULT 0,
            byte_size bigint NOT NULL, min_similarity double precision, min_probability double precision,
            trusted_probability double precision, wrong_hits bigint NOT NULL DEFAULT 0, right_hits bigint NOT NULL DEFAULT 0)
        """,
        "CREATE INDEX deja_entry_namespace ON deja_entry (namespace)",
        "CREATE TABLE deja_change (seq bigserial PRIMARY KEY, kind smallint NOT NULL, entry_id bigint NOT NULL)",
        """
        CREATE TABLE deja_namespace_counter (
            namespace text PRIMARY KEY, label text NOT NULL, hits bigint NOT NULL DEFAULT 0,
            semantic_hits bigint NOT NULL DEFAULT 0, misses bigint NOT NULL DEFAULT 0,
            saved_prompt_tokens bigint NOT NULL DEFAULT 0, saved_completion_tokens bigint NOT NULL DEFAULT 0)
        """,
    ]

    public func metadata(_ name: String) async throws(CacheError) -> String? {
        let rows = try await query("reading \(name)", "SELECT value FROM deja_meta WHERE name = \("x-" + name)")
        do { return try rows.first.map { try $0["value"].decode(String.self) } } catch { throw failed("reading \(name)", error) }
    }

    public func setMetadata(_ name: String, _ value: String) async throws(CacheError) {
        _ = try await query("writing \(name)", """
            INSERT INTO deja_meta (name, value) VALUES (\("x-" + name), \(value))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """)
    }

    public func insert(_ entry: CacheEntry) async throws(CacheError) -> CacheEntry {
        let vector = entry.vector.map(SQLiteCacheStore.blob)
        let key = try await transaction("inserting an entry") { c -> Int64 in
            try await Self.lockChanges(c)
            let id = try await c.query("""
                INSERT INTO deja_entry (namespace, namespace_label, exact_key, prompt, vector, response, model,
                    created_at, expires_at, last_hit_at, hit_count, prompt_tokens, completion_tokens, byte_size)
                VALUES (\(entry.namespace.id.description), \(entry.namespace.label), \(entry.exactKey.description), \(entry.prompt),
                    \(vector), \(entry.response), \(entry.model), \(entry.createdAt.timeIntervalSince1970),
                    \(entry.expiresAt?.timeIntervalSince1970), \(entry.lastHitAt?.timeIntervalSince1970), \(Int64(entry.hitCount)),
                    \(Int64(entry.promptTokens)), \(Int64(entry.completionTokens)), \(Int64(entry.byteSize)))
                RETURNING id
                """, logger: Self.quiet).collect().first!.decode(Int64.self)
            try await Self.announce(.insert, [id], c)
            return id
        }
        var stored = entry
        stored.key = UInt64(key)
        return stored
    }

    public func entry(key: UInt64) async throws(CacheError) -> CacheEntry? {
        let rows = try await query("reading entry \(key)", "SELECT * FROM deja_entry WHERE id = \(Int64(key))")
        do { return try rows.first.map(Self.entry(from:)) } catch { throw failed("reading entry \(key)", error) }
    }

    public func response(key: UInt64) async throws(CacheError) -> Data? {
        let rows = try await query("reading the response of entry \(key)", "SELECT response FROM deja_entry WHERE id = \(Int64(key))")
        do { return try rows.first.map { try $0["response"].decode(Data.self) } } catch { throw failed("reading entry \(key)", error) }
    }

    public func delete(keys: [UInt64]) async throws(CacheError) -> [UInt64] {
        guard !keys.isEmpty else { return [] }
        let ids = keys.map { Int64($0) }
        return try await transaction("deleting \(keys.count) entries") { c in
            try await Self.lockChanges(c)
            let gone = try await c.query("DELETE FROM deja_entry WHERE id = ANY(\(ids)) RETURNING id", logger: Self.quiet)
                .collect().map { try $0.decode(Int64.self) }
            try await Self.announce(.delete, gone, c)
            return gone.map { UInt64($0) }
        }
    }

    static let summaryColumns = """
        id, namespace, namespace_label, exact_key, prompt, model, created_at, expires_at, last_hit_at, hit_count,
        prompt_tokens, completion_tokens, byte_size, vector IS NOT NULL AS has_vector, min_similarity, min_probability,
        trusted_probability, wrong_hits, right_hits
        """

    public func summaries() async throws(CacheError) -> [EntrySummary] {
        let rows = try await query("reading entry summaries", PostgresQuery(unsafeSQL: "SELECT \(Self.summaryColumns) FROM deja_entry ORDER BY id"))
        do { return try rows.map(Self.summary(from:)) } catch { throw failed("reading entry summaries", error) }
    }

    public func summaries(keys: [UInt64]) async throws(CacheError) -> [EntrySummary] {
        guard !keys.isEmpty else { return [] }
        var sql = PostgresQuery(unsafeSQL: "SELECT \(Self.summaryColumns) FROM deja_entry WHERE id = ANY($1) ORDER BY id")
        sql.binds.append(keys.map { Int64($0) }, context: .default)
        let rows = try await query("reading \(keys.count) entry summaries", sql)
        do { return try rows.map(Self.summary(from:)) } catch { throw failed("reading entry summaries", error) }
    }

    public func vectors(keys: [UInt64]) async throws(CacheError) -> [UInt64: [Float]] {
        guard !keys.isEmpty else { return [:] }
        let ids = keys.map { Int64($0) }
        let rows = try await query(
            "reading \(keys.count) vectors", "SELECT id, vector FROM deja_entry WHERE vector IS NOT NULL AND id = ANY(\(ids))")
        do {
            var out: [UInt64: [Float]] = [:]
            for row in rows { out[UInt64(try row["id"].decode(Int64.self))] = SQLiteCacheStore.floats(try row["vector"].decode(Data.self)) }
            return out
        } catch {
            throw failed("reading vectors", error)
        }
    }

    public func replaceVectors(_ vectors: [UInt64: [Float]]) async throws(CacheError) {
        try await transaction("replacing \(vectors.count) vectors") { c in
            for (key, vector) in vectors {
                try await c.query("UPDATE deja_entry SET vector = \(SQLiteCacheStore.blob(vector)) WHERE id = \(Int64(key))", logger: Self.quiet)
            }
        }
    }

    public func recordUsage(_ usage: UsageBatch) async throws(CacheError) {
        guard !usage.isEmpty else { return }
        try await transaction("recording usage") { c in
            for (key, hit) in usage.hits {
                try await c.query("""
                    UPDATE deja_entry SET hit_count = hit_count + \(Int64(hit.count)),
                        last_hit_at = greatest(coalesce(last_hit_at, 0), \(hit.last.timeIntervalSince1970))
                    WHERE id = \(Int64(key))
                    """, logger: Self.quiet)
            }
            for n in usage.counters.values {
                try await c.query("""
                    INSERT INTO deja_namespace_counter (namespace, label, hits, semantic_hits, misses, saved_prompt_tokens, saved_completion_tokens)
                    VALUES (\(n.namespace.description), \(n.label), \(Int64(n.hits)), \(Int64(n.semanticHits)), \(Int64(n.misses)),
                        \(Int64(n.savedPromptTokens)), \(Int64(n.savedCompletionTokens)))
                    \(unescaped: Self.addingToCounters)
                    """, logger: Self.quiet)
            }
        }
    }

    /// The end of an insert into `deja_namespace_counter` that adds to a row already there.
    static let addingToCounters = """
        ON CONFLICT (namespace) DO UPDATE SET
            hits = deja_namespace_counter.hits + excluded.hits,
            semantic_hits = deja_namespace_counter.semantic_hits + excluded.semantic_hits,
            misses = deja_namespace_counter.misses + excluded.misses,
            saved_prompt_tokens = deja_namespace_counter.saved_prompt_tokens + excluded.saved_prompt_tokens,
            saved_completion_tokens = deja_namespace_counter.saved_completion_tokens + excluded.saved_completion_tokens
        """

    public func namespaceCounters() async throws(CacheError) -> [NamespaceCounters] {
        let rows = try await query("reading namespace counters", "SELECT * FROM deja_namespace_counter")
        do {
            return try rows.map { row in
                var c = NamespaceCounters(
                    namespace: try SQLiteCacheStore.digest(row["namespace"].decode(String.self)), label: try row["label"].decode(String.self))
                c.hits = Int(try row["hits"].decode(Int64.self))
                c.semanticHits = Int(try row["semantic_hits"].decode(Int64.self))
                c.misses = Int(try row["misses"].decode(Int64.self))
                c.savedPromptTokens = Int(try row["saved_prompt_tokens"].decode(Int64.self))
                c.savedCompletionTokens = Int(try row["saved_completion_tokens"].decode(Int64.self))
                return c
            }
        } catch {
            throw failed("reading namespace counters", error)
        }
    }

    public func mergeCounters(_ namespaces: [Digest128], into target: Digest128, label: String) async throws(CacheError) {
        guard !namespaces.isEmpty else { return }
        let ids = namespaces.map(\.description)
        try await transaction("merging the counters of \(ids.count) namespaces") { c in
            try await c.query("""
                INSERT INTO deja_namespace_counter (namespace, label, hits, semantic_hits, misses, saved_prompt_tokens, saved_completion_tokens)
                SELECT \(target.description), \(label), coalesce(sum(hits), 0), coalesce(sum(semantic_hits), 0), coalesce(sum(misses), 0),
                    coalesce(sum(saved_prompt_tokens), 0), coalesce(sum(saved_completion_tokens), 0)
                FROM deja_namespace_counter WHERE namespace = ANY(\(ids))
                \(unescaped: Self.addingToCounters)
                """, logger: Self.quiet)
            try await c.query("DELETE FROM deja_namespace_counter WHERE namespace = ANY(\(ids))", logger: Self.quiet)
        }
    }

    public func setTrust(_ trust: EntryTrust, key: UInt64) async throws(CacheError) {
        _ = try await query("recording feedback on entry \(key)", """
            UPDATE deja_entry SET min_similarity = \(trust.minSimilarity.map { Double($0) }), min_probability = \(trust.minProbability),
                trusted_probability = \(trust.trustedProbability), wrong_hits = \(Int64(trust.wrongHits)), right_hits = \(Int64(trust.rightHits))
            WHERE id = \(Int64(key))
            """)
    }

    public func purge(namespace: Digest128) async throws(CacheError) -> [UInt64] {
        let id = namespace.description
        return try await transaction("purging namespace \(id)") { c in
            try await Self.lockChanges(c)
            let gone = try await c.query("DELETE FROM deja_entry WHERE namespace = \(id) RETURNING id", logger: Self.quiet)
                .collect().map { try $0.decode(Int64.self) }
            try await c.query("DELETE FROM deja_namespace_counter WHERE namespace = \(id)", logger: Self.quiet)
            try await Self.announce(.delete, gone, c)
            return gone.map { UInt64($0) }
        }
    }

    // MARK: - Change feed

    public func changes(after sequence: Int64, limit: Int) async throws(CacheError) -> [StoreChange] {
        let rows = try await query("reading changes", """
            SELECT seq, kind, entry_id FROM deja_change WHERE seq > \(sequence) ORDER BY seq LIMIT \(Int64(limit))
            """)
        do {
            return try rows.map { row in
                StoreChange(
                    sequence: try row["seq"].decode(Int64.self), kind: StoreChange.Kind(rawValue: try row["kind"].decode(Int16.self)) ?? .delete,
                    key: UInt64(try row["entry_id"].decode(Int64.self)))
            }
        } catch {
            throw failed("reading changes", error)
        }
    }

    public func lastSequence() async throws(CacheError) -> Int64 {
        let rows = try await query("reading the last change", "SELECT coalesce(max(seq), 0) AS seq FROM deja_change")
        do { return try rows.first?["seq"].decode(Int64.self) ?? 0 } catch { throw failed("reading the last change", error) }
    }

    /// The lease is one row of `deja_meta`, `<instance> <until>`, taken in one statement. Not a
    /// session advisory lock: that would need one pool connection held for the process's life, and
    /// it would move to no one when that connection is recycled.
    public func claimUpkeep(for seconds: Double, now: Double) async throws(CacheError) -> Bool {
        let value = "\(instance) \(now + seconds)"
        let rows = try await query("claiming the upkeep", """
            INSERT INTO deja_meta (name, value) VALUES ('upkeep', \(value))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            WHERE split_part(deja_meta.value, ' ', 1) = \(instance) OR split_part(deja_meta.value, ' ', 2)::double precision < \(now)
            RETURNING value
            """)
        return !rows.isEmpty
    }

    public func waitForChanges(timeout: Double) async {
        await notified.wait(timeout: .milliseconds(Int64(timeout * 1000)))
    }

    // MARK: - Rows

    static func summary(from row: PostgresRandomAccessRow) throws -> EntrySummary {
        EntrySummary(
            key: UInt64(try row["id"].decode(Int64.self)),
            namespace: Namespace(
                id: try SQLiteCacheStore.digest(row["namespace"].decode(String.self)), label: try row["namespace_label"].decode(String.self)),
            exactKey: try SQLiteCacheStore.digest(row["exact_key"].decode(String.self)), prompt: try row["prompt"].decode(String.self),
            model: try row["model"].decode(String.self), createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
            expiresAt: try row["expires_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            lastHitAt: try row["last_hit_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            hitCount: Int(try row["hit_count"].decode(Int64.self)), promptTokens: Int(try row["prompt_tokens"].decode(Int64.self)),
            completionTokens: Int(try row["completion_tokens"].decode(Int64.self)), byteSize: Int(try row["byte_size"].decode(Int64.self)),
            hasVector: try row["has_vector"].decode(Bool.self),
            trust: EntryTrust(
                minSimilarity: try row["min_similarity"].decode(Double?.self).map(Float.init),
                minProbability: try row["min_probability"].decode(Double?.self),
                trustedProbability: try row["trusted_probability"].decode(Double?.self),
                wrongHits: Int(try row["wrong_hits"].decode(Int64.self)), rightHits: Int(try row["right_hits"].decode(Int64.self))))
    }

    static func entry(from row: PostgresRandomAccessRow) throws -> CacheEntry {
        CacheEntry(
            key: UInt64(try row["id"].decode(Int64.self)),
            namespace: Namespace(
                id: try SQLiteCacheStore.digest(row["namespace"].decode(String.self)), label: try row["namespace_label"].decode(String.self)),
            exactKey: try SQLiteCacheStore.digest(row["exact_key"].decode(String.self)), prompt: try row["prompt"].decode(String.self),
            vector: try row["vector"].decode(Data?.self).map(SQLiteCacheStore.floats), response: try row["response"].decode(Data.self),
            model: try row["model"].decode(String.self), createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
            expiresAt: try row["expires_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            lastHitAt: try row["last_hit_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            hitCount: Int(try row["hit_count"].decode(Int64.self)), promptTokens: Int(try row["prompt_tokens"].decode(Int64.self)),
            completionTokens: Int(try row["completion_tokens"].decode(Int64.self)))
    }
}
