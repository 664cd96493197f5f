import SemanticCache

/// The prompt-injection guard (`guards.injection`): a score between 0 and 1 for the text the
/// user controls, and what is done above a threshold.
public struct InjectionConfiguration: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, Equatable {
        /// Not scored.
        case off
        /// Answered as usual, with `x-deja-guard: injection;score=0.91` and a mark in the log.
        case flag
        /// Refused with a 400 (`prompt_injection`).
        case block
    }

    /// Per-model settings, ahead of the defaults (`models: {"gpt-4o*": {action: block}}`).
    public struct Override: Codable, Sendable, Equatable {
        public var action: Action?
        public var threshold: Double?

        public init(action: Action? = nil, threshold: Double? = nil) {
            self.action = action
            self.threshold = threshold
        }
    }

    public var action: Action
    /// The score at or above which a prompt is flagged or blocked; the default was chosen with
    /// `deja guard eval` on `fixtures/injection/` (docs/guards.md shows the curve).
    public var threshold: Double
    /// The patterns and weights, a JSON file (`models/injection-patterns.json`, which ships with Deja).
    public var patterns: String
    /// Whether tool results (`role: tool` messages, `function_call_output` items) are scored
    /// too: text a tool fetched (a web page, a document) is the usual carrier of indirect injection.
    public var toolResults: Bool
    public var models: [String: Override]

    public init(
        action: Action = .off, threshold: Double = 0.5, patterns: String = "models/injection-patterns.json", toolResults: Bool = false,
        models: [String: Override] = [:]
    ) {
        self.action = action
        self.threshold = threshold
        self.patterns = patterns
        self.toolResults = toolResults
        self.models = models
    }

    enum CodingKeys: String, CodingKey {
        case action, threshold, patterns, models
        case toolResults = "tool_results"
    }

    public init(from decoder: any Decoder) throws {
        let d = InjectionConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        action = try c.decodeIfPresent(Action.self, forKey: .action) ?? d.action
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? d.threshold
        patterns = try c.decodeIfPresent(String.self, forKey: .patterns) ?? d.patterns
        toolResults = try c.decodeIfPresent(Bool.self, forKey: .toolResults) ?? d.toolResults
        models = try c.decodeIfPresent([String: Override].self, forKey: .models) ?? d.models
    }

    /// Whether any model is scored.
    var isOn: Bool { action != .off || models.values.contains { ($0.action ?? .off) != .off } }

    /// The action and threshold for `model`: the first override whose glob matches (in name order), else the defaults.
    func settings(for model: String) -> (Action, Double) {
        Self.settings(for: model, overrides: models.sorted { $0.key < $1.key }, action: action, threshold: threshold)
    }

    /// The same over overrides sorted once (``RequestGuards`` sorts them at start, not per request).
    static func settings(for model: String, overrides: [(key: String, value: Override)], action: Action, threshold: Double)
        -> (Action, Double)
    {
        for (glob, o) in overrides where Glob.matches(glob, model) {
            return (o.action ?? action, o.threshold ?? threshold)
        }
        return (action, threshold)
    }

    var problems: [String] {
        var out: [String] = []
        if !(threshold > 0 && threshold <= 1) { out.append("guards.injection.threshold: must be above 0 and at most 1, got \(threshold)") }
        for (glob, o) in models {
            if let t = o.threshold, !(t > 0 && t <= 1) {
                out.append("guards.injection.models.\(glob).threshold: must be above 0 and at most 1, got \(t)")
            }
        }
        if isOn && patterns.isEmpty { out.append("guards.injection.patterns: must name the patterns file") }
        return out
    }
}
