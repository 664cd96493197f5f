import GRDB

/// Makes a cache store's SQLite file refuse writes the way a full disk does, for fault tests: a
/// trigger raising `SQLITE_FULL`'s own message on every insert into `table`, until accepted again.
public enum SQLiteFault {
    public static func refuseInserts(into table: String, in path: String) throws {
        try connection(path).write {
            try $0.execute(sql: """
                CREATE TRIGGER test_full_\(table) BEFORE INSERT ON \(table)
                BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                """)
        }
    }

    public static func acceptInserts(into table: String, in path: String) throws {
        try connection(path).write { try $0.execute(sql: "DROP TRIGGER test_full_\(table)") }
    }

    /// A connection that waits for the server's write lock (its upkeep writes every second)
    /// instead of failing with "database is locked" when it meets it.
    private static func connection(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
