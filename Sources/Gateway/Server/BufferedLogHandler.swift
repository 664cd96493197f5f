import Foundation
public import Logging

/// A swift-log handler that writes `time level label: message key=value ...` lines to standard
/// error through a buffer flushed every 100 ms (and at once for warnings and worse), so that a
/// log line per request does not cost a system call per request.
///
/// ```swift
/// LoggingSystem.bootstrap { BufferedLogHandler(label: $0, level: .info) }
/// ...
/// BufferedLogHandler.flush()   // before exit
/// ```
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = _LogSink.shared.timestamp()
        text += " \(event.level) \(label): \(event.message)"
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        if !merged.isEmpty {
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        }
        text += "\n"
        _LogSink.shared.write(text, urgent: event.level >= .warning)
    }

    /// Writes out what is buffered (call before the process exits).
    public static func flush() {
        _LogSink.shared.flush()
    }
}

/// The process's log buffer and its flushing thread.
final class _LogSink: @unchecked Sendable {
    static let shared = _LogSink()

    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private var second: Int = -1
    private var stamp = ""

    private init() {
        buffer.reserveCapacity(1 << 16)
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                flush()
            }
        }
    }

    /// ISO 8601 to the second, UTC, formatted once per second.
    func timestamp() -> String {
        let now = Int(Date().timeIntervalSince1970)
        lock.lock()
        defer { lock.unlock() }
        if now != second {
            var t = time_t(now)
            var parts = tm()
            gmtime_r(&t, &parts)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            stamp = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
            second = now
        }
        return stamp
    }

    func write(_ line: String, urgent: Bool) {
        lock.lock()
        buffer.append(contentsOf: line.utf8)
        let full = buffer.count >= 1 << 16
        lock.unlock()
        if urgent || full { flush() }
    }

    func flush() {
        lock.lock()
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        lock.unlock()
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
