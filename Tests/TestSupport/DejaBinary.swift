public import Foundation

/// The `deja` executable built beside the tests, run as a child process.
public enum DejaBinary {
    /// `.build/<triple>/<config>/deja`, next to the test bundle.
    public static var url: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if folder.lastPathComponent.hasSuffix(".xctest") { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("deja")
    }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// A `deja` child with `arguments`, this process's environment plus `environment`; not started.
    /// With `openFiles`, it starts under that soft limit on open files and a hard limit of at
    /// most `openFiles.hard` (through `/bin/sh`'s `ulimit`), this process's own staying as they are.
    static func process(
        _ arguments: [String], environment: [String: String], directory: String? = nil,
        openFiles: (soft: Int, hard: Int)? = nil
    ) -> Process {
        let process = Process()
        if let openFiles {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The soft limit first: a hard limit below the soft one is refused.
            let script = "ulimit -S -n \(openFiles.soft) && { ulimit -H -n \(openFiles.hard) 2>/dev/null; exec \"$0\" \"$@\"; }"
            process.arguments = ["-c", script, url.path] + arguments
        } else {
            process.executableURL = url
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return process
    }

    /// Runs `deja` with `arguments` to completion (in `directory`, else this process's), without
    /// the variables of `removing` that this process has (`environment`'s own are passed).
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], removing: Set<String> = [], directory: String? = nil
    ) throws -> Output {
        let process = Self.process(arguments, environment: environment, directory: directory)
        process.environment = process.environment?.filter { !removing.contains($0.key) || environment[$0.key] != nil }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `deja`, reads its standard error until a line containing `http://host:PORT` appears,
    /// and returns the process and that port (for `serve` and `mock-upstream` with `--port 0`).
    public static func startServer(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Int) {
        let (process, port, _) = try startServerWithLog(arguments, environment: environment)
        return (process, port)
    }

    /// ``startServer(_:environment:)`` that also returns what the server wrote to standard error
    /// up to the line that gives its address (the start-up log).
    public static func startServerWithLog(
        _ arguments: [String], environment: [String: String] = [:], openFiles: (soft: Int, hard: Int)? = nil
    ) throws -> (Process, Int, String) {
        let process = Self.process(arguments, environment: environment, openFiles: openFiles)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A server that runs but never says where would block the read below for good: stopped
        // after a minute, which ends the read.
        let watchdog = _Watchdog(process)
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { watchdog.fire() }
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n") where line.contains("listening on http://") || line.contains("listening on https://") {
                let address = line.split(separator: "://").last ?? ""
                let afterColon = address.split(separator: ":").dropFirst().first ?? ""
                if let port = Int(afterColon.prefix { $0.isNumber }) {
                    watchdog.disarm()
                    // Keep draining stderr so the child never blocks on a full pipe.
                    let handle = err.fileHandleForReading
                    Thread.detachNewThread { while !handle.availableData.isEmpty {} }
                    return (process, port, text)
                }
            }
        }
        process.terminate()
        throw NSError(domain: "deja", code: 1, userInfo: [NSLocalizedDescriptionKey: "deja did not start: \(text)"])
    }

    /// Starts `deja` with its standard error going to `logFile`, waits for the line that gives
    /// its address, and returns the process and its port: for tests that read the whole log.
    public static func startServer(_ arguments: [String], environment: [String: String] = [:], logFile: String) throws -> (Process, Int) {
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let process = Self.process(arguments, environment: environment)
        process.standardError = FileHandle(forWritingAtPath: logFile)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") ?? text.range(of: "listening on https://127.0.0.1:"),
               let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            {
                return (process, port)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw NSError(domain: "deja", code: 1, userInfo: [NSLocalizedDescriptionKey: "deja did not start; its log is in \(logFile)"])
    }

    /// Starts `deja` and returns the process and its standard output, for tests that read as it
    /// runs (and perhaps kill it).
    public static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, FileHandle) {
        let process = Self.process(arguments, environment: environment)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, out.fileHandleForReading)
    }
}

/// Stops a process that did not start in time, unless disarmed first.
final class _Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private let process: Process
    private var armed = true

    init(_ process: Process) { self.process = process }

    func disarm() { lock.withLock { armed = false } }

    func fire() {
        lock.withLock {
            if armed && process.isRunning { process.terminate() }
        }
    }
}
