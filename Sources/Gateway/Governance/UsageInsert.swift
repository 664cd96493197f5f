import GRDB
import GRDBSQLite

/// The ledger's `INSERT` into `usage`, bound column by column through SQLite's C API.
///
/// Why not GRDB's `StatementArguments`: built from an array of `any DatabaseValueConvertible`,
/// every row boxed its twenty values as existentials and converted each again, and that was 2.3 %
/// of the gateway's CPU on semantic hits (perf, `deja bench gateway --paraphrase`, Emerald
/// Rapids), while SQLite's own work on the insert was under 0.1 %. Every request writes a row.
struct UsageInsert {
    static let sql = """
        INSERT INTO usage (at, request_id, key_id, tenant, route, model, upstream_model, provider, status, latency_ms,
            first_token_ms, prompt_tokens, cached_tokens, completion_tokens, cost, saved_prompt_tokens,
            saved_completion_tokens, saved_cost, cache, similarity)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Tells SQLite to copy text when it is bound (the Swift string's bytes are borrowed).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private let statement: Statement
    private let db: Database

    /// The statement, prepared once per connection (GRDB's statement cache).
    init(_ db: Database) throws {
        statement = try db.cachedStatement(sql: Self.sql)
        self.db = db
    }

    /// Writes one row.
    /// - Throws: `DatabaseError` with SQLite's code and message when the insert fails.
    func insert(_ r: UsageRecord) throws {
        let s = statement.sqliteStatement
        var code = sqlite3_reset(s)
        guard code == SQLITE_OK else { throw failure(code) }
        var column: Int32 = 0
        func next() -> Int32 {
            column += 1
            return column
        }
        func bind(_ value: Double?) {
            if let value { sqlite3_bind_double(s, next(), value) } else { sqlite3_bind_null(s, next()) }
        }
        func bind(_ value: Int) { sqlite3_bind_int64(s, next(), Int64(value)) }
        func bind(_ value: String?) {
            guard var value else { return _ = sqlite3_bind_null(s, next()) }
            let index = next()
            // The byte count, not a C string: text may hold NUL characters.
            value.withUTF8 { bytes in
                if let base = bytes.baseAddress {
                    let text = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                    _ = sqlite3_bind_text(s, index, text, Int32(bytes.count), Self.transient)
                } else {
                    _ = sqlite3_bind_text(s, index, "", 0, Self.transient)  // NULL would bind NULL
                }
            }
        }
        bind(r.at)
        bind(r.requestID)
        bind(r.keyID)
        bind(r.tenant)
        bind(r.route)
        bind(r.model)
        bind(r.upstreamModel)
        bind(r.provider)
        bind(r.status)
        bind(r.latencyMs)
        bind(r.firstTokenMs)
        bind(r.promptTokens)
        bind(r.cachedTokens)
        bind(r.completionTokens)
        bind(r.cost)
        bind(r.savedPromptTokens)
        bind(r.savedCompletionTokens)
        bind(r.savedCost)
        bind(r.cache)
        bind(r.similarity.map { Double($0) })
        code = sqlite3_step(s)
        guard code == SQLITE_DONE else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: Self.sql)
    }
}
