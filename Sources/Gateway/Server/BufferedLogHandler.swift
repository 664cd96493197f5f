import DejaSupport
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
            ? Self.jsonLine(time: LogSink.shared.timestamp(), level: event.level, label: label, message: "\(event.message)", merged)
            : Self.textLine(time: LogSink.shared.timestamp(), level: event.level, label: label, message: "\(event.message)", merged)
        LogSink.shared.write(text, urgent: event.level >= .warning)
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
        LogSink.shared.flush()
    }
}
