public import Embedding
import Foundation
public import SemanticCache

/// What the logs hold.
public struct LoggingConfiguration: Codable, Sendable, Equatable {
    /// trace, debug, info, notice, warning, error or critical.
    public var level: String
    /// Log prompt text in the request log line (off by default: prompts may hold personal data).
    public var prompts: Bool
    /// `text` (`time level label: message key=value ...`) or `json` (one object per line, for
    /// log collectors).
    public var format: String

    public init(level: String = "info", prompts: Bool = false, format: String = "text") {
        self.level = level
        self.prompts = prompts
        self.format = format
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(String.self, forKey: .level) ?? "info"
        prompts = try c.decodeIfPresent(Bool.self, forKey: .prompts) ?? false
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "text"
    }

    /// Lines are JSON objects.
    public var json: Bool { format == "json" }

    var problems: [String] {
        var out: [String] = []
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        if !levels.contains(level) { out.append("logging.level: must be one of \(levels.joined(separator: ", ")), got '\(level)'") }
        if !["text", "json"].contains(format) { out.append("logging.format: must be text or json, got '\(format)'") }
        return out
    }
}
