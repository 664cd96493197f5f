public import Foundation
import GRDB

/// The cache store in one SQLite file (GRDB, WAL mode).
///
/// ```swift
/// let store = try SQLiteCacheStore(path: "deja-cache.sqlite")
/// ```
///
/// WAL with `synchronous = NORMAL`: a committed insert survives the process being killed
/// (the log is in the operating system's hands when the commit returns); a power cut may lose
/// the last moments of inserts, which for a cache only means a few extra misses.
/// Keys come from an `AUTOINCREMENT` primary key, so a deleted key is never handed out again.
/// Every insert and delete takes a number from a change sequence (`seq`), kept for instances
/// that will follow a shared store by polling it.
public struct SQLiteCacheStore: CacheStore {
    private let database: DatabasePool
    public let location: String
    /// Held while this store (and every copy of it) is alive, when opened `exclusive`.
    private let lock: StoreLock?

    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    /// `exclusive` (what `deja serve` and the `deja cache` commands use) first takes
    /// `<path>.lock`, refusing a store another process has open (see `StoreLock`).
    ///
    /// - Throws: ``CacheError/store(_:)`` naming the file and the problem.
    public init(path: String, exclusive: Bool = false) throws(CacheError) {
        location = path
        lock = exclusive ? try StoreLock(store: path) : nil
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // Someone else's database (a path typed wrong) is left exactly as it is: looked at through
        // a plain connection first, before the pool would switch it to WAL and write to it.
        if FileManager.default.fileExists(atPath: path) {
            let foreign: Bool
            do {
                let look = try DatabaseQueue(path: path, configuration: configuration)
                foreign = try look.read { db in
                    let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                    return !tables.isEmpty && !tables.contains("grdb_migrations")
                }
                try look.close()
            } catch {
                throw .store("cannot read \(path): \(Self.describe(error))\(Self.advice(error))")
            }
            if foreign {
                throw .store("\(path) is an SQLite database of something else, not a Deja cache: set cache.store to another file")
            }
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .store("cannot open \(path): \(Self.describe(error))\(Self.advice(error))")
        }
        database = pool
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw .store("cannot open \(path): \(Self.describe(error))\(Self.advice(error))")
        }
    }

    /// What to do about a file SQLite cannot read as a database, or finds damaged while reading
    /// (a copy cut short, a disk that lost pages).
    static func advice(_ error: any Error) -> String {
        guard let e = error as? DatabaseError, e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT else {
            return ""
        }
        return " (move the file away to start an empty cache, or set cache.store to another file)"
    }

    /// The schema's history. A migration is never edited once released; changes get a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-entries") { db in
            try db.create(table: "entry") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("namespace", .text).notNull().indexed()
                t.column("namespace_label", .text).notNull()
                t.column("exact_key", .text).notNull().indexed()
                t.column("prompt", .text).notNull()
                t.column("vector", .blob)
                t.column("response", .blob).notNull()
                t.column("model", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("expires_at", .double)
                t.column("last_hit_at", .double)
                t.column("hit_count", .integer).notNull().defaults(to: 0)
                t.column("prompt_tokens", .integer).notNull().defaults(to: 0)
                t.column("completion_tokens", .integer).notNull().defaults(to: 0)
                t.column("byte_size", .integer).notNull()
                t.column("seq", .integer).notNull().indexed()
            }
            try db.create(table: "deletion") { t in
                t.column("seq", .integer).primaryKey()
                t.column("entry_id", .integer).notNull()
            }
            try db.create(table: "sequence") { t in
                t.column("id", .integer).primaryKey().check { $0 == 1 }
                t.column("value", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO sequence (id, value) VALUES (1, 0)")
            try db.create(table: "meta") { t in
                t.column("name", .text).primaryKey()
                t.column("value", .text).notNull()
            }
            try db.create(table: "namespace_counter") { t in
                t.column("namespace", .text).primaryKey()
                t.column("label", .text).notNull()
                t.column("hits", .integer).notNull().defaults(to: 0)
                t.column("semantic_hits", .integer).notNull().defaults(to: 0)
                t.column("misses", .integer).notNull().defaults(to: 0)
                t.column("saved_prompt_tokens", .integer).notNull().defaults(to: 0)
                t.column("saved_completion_tokens", .integer).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v2-entry-trust") { db in
            try db.alter(table: "entry") { t in
                t.add(column: "min_similarity", .double)
                t.add(column: "min_probability", .double)
                t.add(column: "trusted_probability", .double)
                t.add(column: "wrong_hits", .integer).notNull().defaults(to: 0)
                t.add(column: "right_hits", .integer).notNull().defaults(to: 0)
            }
        }
        return migrator
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? e.description }
        return String(describing: error)
    }

    private func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(CacheError) -> T {
        do {
            return try await database.write(body)
        } catch {
            throw .storeFailed(operation: what, location: location, reason: Self.describe(error) + Self.advice(error))
        }
    }

    private func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(CacheError) -> T {
        do {
            return try await database.read(body)
        } catch {
            throw .storeFailed(operation: what, location: location, reason: Self.describe(error) + Self.advice(error))
        }
    }

    private static func nextSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "UPDATE sequence SET value = value + 1 WHERE id = 1 RETURNING value")) ?? 0
    }

    public func metadata(_ name: String) async throws(CacheError) -> String? {
        try await read("reading \(name)") { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = ?", arguments: [name])
        }
    }

    public func setMetadata(_ name: String, _ value: String) async throws(CacheError) {
        try await write("writing \(name)") { db in
            try db.execute(
                sql: "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                arguments: [name, value])
        }
    }

    public func insert(_ entry: CacheEntry) async throws(CacheError) -> CacheEntry {
        let vector = entry.vector.map(Self.blob)
        let key = try await write("inserting an entry") { db -> Int64 in
            let seq = try Self.nextSequence(db)
            // A cached statement: SQLite parses the SQL once per connection, not once per insert.
            try db.cachedStatement(sql: """
                    INSERT INTO entry (namespace, namespace_label, exact_key, prompt, vector, response, model,
                        created_at, expires_at, last_hit_at, hit_count, prompt_tokens, completion_tokens, byte_size, seq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                    entry.namespace.id.description, entry.namespace.label, entry.exactKey.description, entry.prompt,
                    vector, entry.response, entry.model, entry.createdAt.timeIntervalSince1970,
                    entry.expiresAt?.timeIntervalSince1970, entry.lastHitAt?.timeIntervalSince1970, entry.hitCount,
                    entry.promptTokens, entry.completionTokens, entry.byteSize, seq,
                ])
            return db.lastInsertedRowID
        }
        var stored = entry
        stored.key = UInt64(key)
        return stored
    }

    public func entry(key: UInt64) async throws(CacheError) -> CacheEntry? {
        try await read("reading entry \(key)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM entry WHERE id = ?"), arguments: [Int64(key)]).map(Self.entry(from:))
        }
    }

    public func response(key: UInt64) async throws(CacheError) -> Data? {
        try await read("reading the response of entry \(key)") { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT response FROM entry WHERE id = ?"), arguments: [Int64(key)])
        }
    }

    public func delete(keys: [UInt64]) async throws(CacheError) -> [UInt64] {
        guard !keys.isEmpty else { return [] }
        return try await write("deleting \(keys.count) entries") { db in
            var deleted: [UInt64] = []
            for key in keys {
                try db.execute(sql: "DELETE FROM entry WHERE id = ?", arguments: [Int64(key)])
                if db.changesCount > 0 {
                    deleted.append(key)
                    try db.execute(
                        sql: "INSERT INTO deletion (seq, entry_id) VALUES (?, ?)",
                        arguments: [try Self.nextSequence(db), Int64(key)])
                }
            }
            return deleted
        }
    }

    public func summaries() async throws(CacheError) -> [EntrySummary] {
        try await read("reading entry summaries") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, namespace, namespace_label, exact_key, prompt, model, created_at, expires_at,
                        last_hit_at, hit_count, prompt_tokens, completion_tokens, byte_size, vector IS NOT NULL AS has_vector,
                        min_similarity, min_probability, trusted_probability, wrong_hits, right_hits
                    FROM entry ORDER BY id
                    """
            ).map { row in
                EntrySummary(
                    key: UInt64(row["id"] as Int64), namespace: try Self.namespace(row),
                    exactKey: try Self.digest(row["exact_key"]), prompt: row["prompt"], model: row["model"],
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    expiresAt: (row["expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    lastHitAt: (row["last_hit_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    hitCount: row["hit_count"], promptTokens: row["prompt_tokens"],
                    completionTokens: row["completion_tokens"], byteSize: row["byte_size"], hasVector: row["has_vector"],
                    trust: EntryTrust(
                        minSimilarity: (row["min_similarity"] as Double?).map(Float.init),
                        minProbability: row["min_probability"], trustedProbability: row["trusted_probability"],
                        wrongHits: row["wrong_hits"],
                        rightHits: row["right_hits"]))
            }
        }
    }

    public func vectors(keys: [UInt64]) async throws(CacheError) -> [UInt64: [Float]] {
        try await read("reading \(keys.count) vectors") { db in
            var out: [UInt64: [Float]] = [:]
            out.reserveCapacity(keys.count)
            // In chunks, to stay under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: keys.count, by: 500) {
                let chunk = keys[start..<min(start + 500, keys.count)].map { Int64($0) }
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, vector FROM entry WHERE vector IS NOT NULL AND id IN (\(marks))",
                    arguments: StatementArguments(chunk))
                for row in rows {
                    out[UInt64(row["id"] as Int64)] = Self.floats(row["vector"])
                }
            }
            return out
        }
    }

    public func replaceVectors(_ vectors: [UInt64: [Float]]) async throws(CacheError) {
        let items = vectors.map { ($0.key, Self.blob($0.value)) }
        try await write("replacing \(items.count) vectors") { db in
            for (key, blob) in items {
                try db.execute(sql: "UPDATE entry SET vector = ? WHERE id = ?", arguments: [blob, Int64(key)])
            }
        }
    }

    public func recordUsage(_ usage: UsageBatch) async throws(CacheError) {
        guard !usage.isEmpty else { return }
        let hits = usage.hits.map { ($0.key, $0.value.count, $0.value.last.timeIntervalSince1970) }
        let counters = Array(usage.counters.values)
        try await write("recording usage") { db in
            for (key, count, last) in hits {
                try db.execute(
                    sql: "UPDATE entry SET hit_count = hit_count + ?, last_hit_at = max(coalesce(last_hit_at, 0), ?) WHERE id = ?",
                    arguments: [count, last, Int64(key)])
            }
            for c in counters {
                try db.execute(
                    sql: """
                        INSERT INTO namespace_counter (namespace, label, hits, semantic_hits, misses,
                            saved_prompt_tokens, saved_completion_tokens)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        \(Self.addingToCounters)
                        """,
                    arguments: [c.namespace.description, c.label, c.hits, c.semanticHits, c.misses,
                                c.savedPromptTokens, c.savedCompletionTokens])
            }
        }
    }

    /// The end of an insert into `namespace_counter` that adds to a row already there.
    static let addingToCounters = """
        ON CONFLICT(namespace) DO UPDATE SET
            hits = hits + excluded.hits, semantic_hits = semantic_hits + excluded.semantic_hits,
            misses = misses + excluded.misses,
            saved_prompt_tokens = saved_prompt_tokens + excluded.saved_prompt_tokens,
            saved_completion_tokens = saved_completion_tokens + excluded.saved_completion_tokens
        """

    public func mergeCounters(_ namespaces: [Digest128], into target: Digest128, label: String) async throws(CacheError) {
        guard !namespaces.isEmpty else { return }
        let ids = namespaces.map(\.description)
        try await write("merging the counters of \(ids.count) namespaces") { db in
            // In slices, under SQLite's limit of bound values per statement.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = Array(ids[start..<min(start + 500, ids.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                try db.execute(
                    sql: """
                        INSERT INTO namespace_counter (namespace, label, hits, semantic_hits, misses,
                            saved_prompt_tokens, saved_completion_tokens)
                        SELECT ?, ?, coalesce(sum(hits), 0), coalesce(sum(semantic_hits), 0), coalesce(sum(misses), 0),
                            coalesce(sum(saved_prompt_tokens), 0), coalesce(sum(saved_completion_tokens), 0)
                        FROM namespace_counter WHERE namespace IN (\(marks))
                        \(Self.addingToCounters)
                        """,
                    arguments: StatementArguments([target.description, label] + slice))
                try db.execute(
                    sql: "DELETE FROM namespace_counter WHERE namespace IN (\(marks))", arguments: StatementArguments(slice))
            }
        }
    }

    public func namespaceCounters() async throws(CacheError) -> [NamespaceCounters] {
        try await read("reading namespace counters") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM namespace_counter").map { row in
                var c = NamespaceCounters(namespace: try Self.digest(row["namespace"]), label: row["label"])
                c.hits = row["hits"]
                c.semanticHits = row["semantic_hits"]
                c.misses = row["misses"]
                c.savedPromptTokens = row["saved_prompt_tokens"]
                c.savedCompletionTokens = row["saved_completion_tokens"]
                return c
            }
        }
    }

    public func setTrust(_ trust: EntryTrust, key: UInt64) async throws(CacheError) {
        try await write("recording feedback on entry \(key)") { db in
            try db.execute(
                sql: """
                    UPDATE entry SET min_similarity = ?, min_probability = ?, trusted_probability = ?, wrong_hits = ?, right_hits = ?
                    WHERE id = ?
                    """,
                arguments: [
                    trust.minSimilarity.map { Double($0) }, trust.minProbability, trust.trustedProbability, trust.wrongHits,
                    trust.rightHits, Int64(key),
                ])
        }
    }

    public func purge(namespace: Digest128) async throws(CacheError) -> [UInt64] {
        let id = namespace.description
        return try await write("purging namespace \(id)") { db in
            let keys = try Int64.fetchAll(db, sql: "SELECT id FROM entry WHERE namespace = ?", arguments: [id])
            for key in keys {
                try db.execute(
                    sql: "INSERT INTO deletion (seq, entry_id) VALUES (?, ?)", arguments: [try Self.nextSequence(db), key])
            }
            try db.execute(sql: "DELETE FROM entry WHERE namespace = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM namespace_counter WHERE namespace = ?", arguments: [id])
            return keys.map { UInt64($0) }
        }
    }

    // MARK: - Rows

    struct BadRow: Error, CustomStringConvertible {
        var description: String
    }

    static func digest(_ hex: String) throws -> Digest128 {
        guard let d = Digest128(hex: hex) else { throw BadRow(description: "'\(hex)' is not a 32-digit hex digest") }
        return d
    }

    static func namespace(_ row: Row) throws -> Namespace {
        Namespace(id: try digest(row["namespace"]), label: row["namespace_label"])
    }

    static func entry(from row: Row) throws -> CacheEntry {
        CacheEntry(
            key: UInt64(row["id"] as Int64), namespace: try namespace(row), exactKey: try digest(row["exact_key"]),
            prompt: row["prompt"], vector: (row["vector"] as Data?).map(floats), response: row["response"],
            model: row["model"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
            expiresAt: (row["expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastHitAt: (row["last_hit_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            hitCount: row["hit_count"], promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"])
    }

    /// Vectors are stored as little-endian float32 bytes.
    static func blob(_ vector: [Float]) -> Data {
        vector.withUnsafeBytes { Data($0) }
    }

    static func floats(_ data: Data) -> [Float] {
        var out = [Float](repeating: 0, count: data.count / 4)
        out.withUnsafeMutableBytes { raw in _ = data.copyBytes(to: raw) }
        return out
    }
}
