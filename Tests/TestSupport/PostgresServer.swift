import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server on a loopback port, in a temporary folder, started by
/// `fixtures/postgres.sh` (Debian's `postgresql`, which `make test` installs): for tests of the
/// shared store. Never skipped: a missing server fails the test, naming `make test`.
public final class PostgresServer: Sendable {
    public let url: String
    public let folder: String
    public let port: Int

    private init(url: String, folder: String, port: Int) {
        self.url = url
        self.folder = folder
        self.port = port
    }

    /// Starts a new server; `remove()` it when done. On a thread of its own, as every wait for a
    /// child process here: it would otherwise hold one of the two threads of the test's pool.
    public static func start() async throws -> PostgresServer {
        try await onOwnThread { try startBlocking() }
    }

    private static func startBlocking() throws -> PostgresServer {
        let folder = NSTemporaryDirectory() + "deja-pg-\(UUID().uuidString.prefix(8))"
        var lastError = ""
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<60_000)
            let run = try script(["start", folder, String(port)])
            if run.status == 0, let url = run.output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") {
                return PostgresServer(url: url, folder: folder, port: port)
            }
            lastError = run.output
        }
        throw StartFailure(description: "could not start PostgreSQL (run `make test`, which installs it): \(lastError)")
    }

    /// Runs `body` with a new server, removed afterwards whatever happens.
    public static func with(_ body: (PostgresServer) async throws -> Void) async throws {
        let server = try await start()
        do {
            try await body(server)
        } catch {
            await server.remove()
            throw error
        }
        await server.remove()
    }

    /// Stops the server, fast (open connections are closed).
    public func stop() async {
        let folder = folder
        _ = try? await onOwnThread { try Self.script(["stop", folder]) }
    }

    /// Stops the server and removes its folder.
    public func remove() async {
        await stop()
        try? FileManager.default.removeItem(atPath: folder)
        try? FileManager.default.removeItem(atPath: folder + ".initdb.log")
    }

    /// Starts it again after `stop()`, on the same port and data.
    public func restart() async throws {
        let (folder, port) = (folder, port)
        let run = try await onOwnThread { try Self.script(["start", folder, String(port)]) }
        guard run.status == 0 else { throw StartFailure(description: "could not restart PostgreSQL: \(run.output)") }
    }

    /// Runs one SQL statement on the `deja` database with `psql`; its rows, one per line.
    public func sql(_ statement: String) async throws -> String {
        let (folder, port) = (folder, port)
        let run = try await onOwnThread { try Self.script(["sql", folder, String(port), statement]) }
        guard run.status == 0 else { throw StartFailure(description: "psql failed: \(run.output)") }
        return run.output
    }

    /// Runs `fixtures/postgres.sh` with `arguments` and waits for it with `waitpid`: Foundation's
    /// `Process` waits forever for a script that leaves a daemon behind (the server it starts).
    static func script(_ arguments: [String]) throws -> ChildProcess.Result {
        let output = NSTemporaryDirectory() + "deja-pg-script-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["fixtures/postgres.sh"] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "fixtures/postgres.sh", &actions, nil, argv + [nil], environ)
        guard spawned == 0 else { throw StartFailure(description: "cannot run fixtures/postgres.sh: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return ChildProcess.Result(status: (status >> 8) & 0xFF, output: text)
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }
}
