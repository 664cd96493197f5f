import Foundation
public import Logging
import SemanticCache

/// A swift-log handler that writes `time level label: message key=value ...` lines (or, with
/// `json`, one JSON object per line: `time`, `level`, `label`, `message`, then the metadata) to
/// standard error through a buffer flushed every 100 ms (and at once for warnings and worse), so
/// that a log line per request does not cost a system call per request.
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
    let json: Bool

    public init(label: String, level: Logger.Level, json: Bool = false) {
        self.label = label
        self.logLevel = level
        self.json = json
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let text = json
            ? Self.jsonLine(time: _LogSink.shared.timestamp(), level: event.level, label: label, message: "\(event.message)", merged)
            : Self.textLine(time: _LogSink.shared.timestamp(), level: event.level, label: label, message: "\(event.message)", merged)
        _LogSink.shared.write(text, urgent: event.level >= .warning)
    }

    static func textLine(
        time: String, level: Logger.Level, label: String, message: String, _ metadata: Logger.Metadata
    ) -> String {
        var text = "\(time) \(level) \(label): \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        return text + "\n"
    }

    /// One JSON object: numbers and booleans given as such (`.stringConvertible`) stay JSON
    /// numbers and booleans, everything else is a string (nested metadata an object or array).
    static func jsonLine(
        time: String, level: Logger.Level, label: String, message: String, _ metadata: Logger.Metadata
    ) -> String {
        var text = "{\"time\":\"\(time)\",\"level\":\"\(level)\",\"label\":\(JSONValue.quoted(label)),\"message\":\(JSONValue.quoted(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message"].contains(key) {
            text += ",\(JSONValue.quoted(key)):\(json(value))"
        }
        return text + "}\n"
    }

    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return JSONValue.quoted(s)
        case .stringConvertible(let v):
            switch v {
            case let b as Bool: return b ? "true" : "false"
            case let i as Int: return String(i)
            case let i as Int64: return String(i)
            case let d as Double where d.isFinite: return "\(d)"
            default: return JSONValue.quoted(v.description)
            }
        case .array(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.sorted { $0.key < $1.key }.map { "\(JSONValue.quoted($0.key)):\(json($0.value))" }.joined(separator: ",") + "}"
        }
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
