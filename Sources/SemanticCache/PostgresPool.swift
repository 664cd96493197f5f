import DejaSupport
public import Foundation
public import Logging
public import PostgresNIO

/// A connection pool to one PostgreSQL database, as Deja's shared stores use it (the cache's
/// entries, and keys, limits and the usage ledger): every operation bounded in time, failures as
/// ``CacheError/storeFailed(operation:location:reason:)`` naming the server without its password.
public final class PostgresPool: Sendable {
    /// `postgres://host:port/database`, without user or password: what messages name.
    public let location: String
    public let client: PostgresClient
    private let running: Task<Void, Never>

    /// Whether `url` names a PostgreSQL database rather than an SQLite file.
    public static func isURL(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    /// Starts a pool for `url` (`postgres://user:password@host:port/database`); a URL without a
    /// password takes `password` (what `PGPASSWORD` holds, as for `psql`). Connects lazily: the
    /// first operation finds out whether the server answers.
    ///
    /// - Parameter field: the configuration field the URL came from, for the message of a bad one.
    /// - Throws: ``CacheError/store(_:)`` when the URL is not a postgres:// one.
    public init(url: String, password: String?, field: String, logger: Logger) async throws(CacheError) {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty
        else {
            throw .store("\(field): '\(Self.redacted(url))' is not a postgres:// URL (postgres://user:password@host:5432/database)")
        }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        location = "postgres://\(host):\(parts.port ?? 5432)/\(database)"
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: parts.user ?? "postgres", password: parts.password ?? password,
            database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 8
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // The pool serves nothing until `run()` has begun: wait for its task to start before the
        // first query (postgres-nio warns of a lease before `run()`).
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        running = Task {
            starting.finish()
            await client.run()
        }
        for await _ in started {}
    }

    deinit { close() }

    /// Stops the pool.
    public func close() {
        running.cancel()
    }

    /// The URL without its password, for messages.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "postgres://..."
    }

    public func failed(_ what: String, _ error: any Error) -> CacheError {
        if let error = error as? CacheError { return error }
        let reason = (error as? PSQLError).map { e in e.serverInfo?[.message] ?? "\(e.code)" } ?? String(describing: error)
        return .storeFailed(operation: what, location: location, reason: reason)
    }

    /// How long one operation may wait for the server: while PostgreSQL is down the pool would
    /// queue requests until it is back; a request fails after this instead, as a store failure
    /// (a miss then goes to the provider uncached, the lookup API answers 503).
    public static let operationTimeout = Duration.seconds(5)

    /// What opening waits for the first connection and the schema: longer than an operation, for a
    /// server that is still starting beside the instance.
    public static let startTimeout = Duration.seconds(30)

    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "no answer within \(PostgresPool.operationTimeout) (is PostgreSQL up?)" }
    }

    /// Runs `body`, failing with a store failure after `timeout`. The caller is not held until
    /// `body` notices its cancellation: postgres-nio does not cancel a request waiting for a
    /// connection to a server that is down, and a task group would wait for it.
    public func bounded<T: Sendable>(
        _ what: String, timeout: Duration = PostgresPool.operationTimeout, _ body: @escaping @Sendable () async throws -> T
    ) async throws(CacheError) -> T {
        let outcome: Result<T, any Error> = await withCheckedContinuation { continuation in
            let race = Race(continuation)
            race.start(
                work: Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                },
                timer: Task {
                    try? await Task.sleep(for: timeout)
                    race.finish(.failure(TimedOut()))
                })
        }
        switch outcome {
        case .success(let value): return value
        case .failure(let error): throw failed(what, error)
        }
    }

    /// The first of an operation and its timer to finish resumes the caller and cancels the other.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result<T, any Error>, Never>?
            var tasks: [Task<Void, Never>] = []
        }

        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) {
            state = Mutex(State(continuation: continuation))
        }

        func start(work: Task<Void, Never>, timer: Task<Void, Never>) {
            let finished = state.withLock { s in
                s.tasks = [work, timer]
                return s.continuation == nil
            }
            if finished { timer.cancel() }
        }

        func finish(_ result: Result<T, any Error>) {
            let (continuation, tasks) = state.withLock { s in
                defer { s.continuation = nil }
                return (s.continuation, s.tasks)
            }
            guard let continuation else { return }
            for task in tasks { task.cancel() }
            continuation.resume(returning: result)
        }
    }

    /// The rows of one statement.
    public func query(_ what: String, _ sql: PostgresQuery) async throws(CacheError) -> [PostgresRandomAccessRow] {
        let client = client
        return try await bounded(what) {
            var out: [PostgresRandomAccessRow] = []
            for try await row in try await client.query(sql) { out.append(row.makeRandomAccess()) }
            return out
        }
    }

    /// `body` in one transaction, committed when it returns.
    public func transaction<T: Sendable>(
        _ what: String, timeout: Duration = PostgresPool.operationTimeout, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(CacheError) -> T {
        let client = client
        return try await bounded(what, timeout: timeout) {
            try await client.withTransaction(logger: Self.quiet) { connection in try await body(connection) }
        }
    }

    /// Creates a schema once under an advisory lock (two instances may start together): runs
    /// `statements` when `deja_meta` has no `version_name` yet. A released version is never edited.
    public func migrate(_ versionName: String, lock: Int64, _ statements: [String]) async throws(CacheError) {
        try await transaction("creating the schema", timeout: Self.startTimeout) { c in
            try await c.query("SELECT pg_advisory_xact_lock(\(lock))", logger: Self.quiet)
            try await c.query("CREATE TABLE IF NOT EXISTS deja_meta (name text PRIMARY KEY, value text NOT NULL)", logger: Self.quiet)
            let version = try await c.query("SELECT value FROM deja_meta WHERE name = \(versionName)", logger: Self.quiet)
                .collect().first.map { try $0.decode(String.self) }
            guard version == nil else { return }
            for statement in statements { try await c.query(PostgresQuery(unsafeSQL: statement), logger: Self.quiet) }
            try await c.query("INSERT INTO deja_meta (name, value) VALUES (\(versionName), '1')", logger: Self.quiet)
        }
    }

    /// Listens on `channel` on one connection of its own, signalling `notifications` at each
    /// notification and when listening (re)starts; a dropped connection is made again a second
    /// later, and a failure is logged once a minute while it lasts. Runs until cancelled.
    public func listen(on channel: String, _ notifications: PostgresNotifications, logger: Logger) -> Task<Void, Never> {
        let client = client
        let location = location
        return Task {
            var lastWarning: ContinuousClock.Instant?
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        do {
                            try await connection.listen(on: channel) { stream in
                                notifications.listening()
                                notifications.signal()
                                for try await _ in stream { notifications.signal() }
                            }
                        } catch {
                            // Closed before it goes back to the pool: the pool learns of a close
                            // from the connection's close future, and a dropped connection released
                            // first would wait there as idle, for the next write to be sent into it.
                            try? await connection.close()
                            throw error
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    if lastWarning.map({ ContinuousClock.now - $0 > .seconds(60) }) ?? true {
                        logger.warning("listening on \(channel) at \(location) failed (\(String(reflecting: error))); trying again every second")
                        lastWarning = .now
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// For statements inside transactions: postgres-nio logs each at debug, which no one needs.
    public static let quiet = Logger(label: "deja.store")
}
