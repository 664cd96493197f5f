/// Data loss prevention (`guards.dlp`): personal data and secrets found in prompts and answers,
/// and what is done with them. Off by default: both directions `off`.
public struct DLPConfiguration: Codable, Sendable, Equatable {
    /// The action of every built-in detector on prompts, unless its rule says otherwise.
    public var prompt: GuardAction
    /// The action of every built-in detector on answers, unless its rule says otherwise.
    public var answer: GuardAction
    /// Per-detector actions, by name (`email`, `phone`, `card`, `iban`, `ssn`, `ip`, `secret`).
    public var detectors: [String: DetectorRule]
    /// Patterns of the operator's own.
    public var custom: [CustomDetector]
    /// Numbered placeholders (`[EMAIL_1]`) in the prompt, put back into the answer on its way to
    /// the client: the provider never sees the value, the user's answer still reads naturally.
    public var reversible: Bool
    /// Whether two prompts that differ only in redacted values share cached answers. Off: a
    /// digest of the values stays in the namespace, so one user's answer about their card number
    /// is never served for another's.
    public var shareRedacted: Bool
    /// The most text of a streamed answer held back at once while a value may still be completing
    /// (a PEM block is the longest); past it, the held text is decided as it stands.
    public var maxHoldBytes: Int

    public init(
        prompt: GuardAction = .off, answer: GuardAction = .off, detectors: [String: DetectorRule] = [:],
        custom: [CustomDetector] = [], reversible: Bool = false, shareRedacted: Bool = false, maxHoldBytes: Int = 8192
    ) {
        self.prompt = prompt
        self.answer = answer
        self.detectors = detectors
        self.custom = custom
        self.reversible = reversible
        self.shareRedacted = shareRedacted
        self.maxHoldBytes = maxHoldBytes
    }

    enum CodingKeys: String, CodingKey {
        case prompt, answer, detectors, custom, reversible
        case shareRedacted = "share_redacted", maxHoldBytes = "max_hold_bytes"
    }

    public init(from decoder: any Decoder) throws {
        let d = DLPConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try c.decodeIfPresent(GuardAction.self, forKey: .prompt) ?? d.prompt
        answer = try c.decodeIfPresent(GuardAction.self, forKey: .answer) ?? d.answer
        detectors = try c.decodeIfPresent([String: DetectorRule].self, forKey: .detectors) ?? d.detectors
        custom = try c.decodeIfPresent([CustomDetector].self, forKey: .custom) ?? d.custom
        reversible = try c.decodeIfPresent(Bool.self, forKey: .reversible) ?? d.reversible
        shareRedacted = try c.decodeIfPresent(Bool.self, forKey: .shareRedacted) ?? d.shareRedacted
        maxHoldBytes = try c.decodeIfPresent(Int.self, forKey: .maxHoldBytes) ?? d.maxHoldBytes
    }

    /// The action of a built-in detector in a direction.
    public func action(_ detector: PIIDetector, _ direction: GuardDirection) -> GuardAction {
        let rule = detectors[detector.name]
        switch direction {
        case .prompt: return rule?.prompt ?? prompt
        case .answer: return rule?.answer ?? answer
        }
    }

    var problems: [String] {
        var out: [String] = []
        if !(256...1 << 20).contains(maxHoldBytes) {
            out.append("guards.dlp.max_hold_bytes: must be between 256 and 1048576, got \(maxHoldBytes)")
        }
        for name in detectors.keys.sorted() where PIIDetector(name: name) == nil {
            out.append("guards.dlp.detectors.\(name): not a detector; use one of \(PIIDetector.allCases.map(\.name).joined(separator: ", "))")
        }
        for (i, custom) in custom.enumerated() { out += custom.problems(at: "guards.dlp.custom[\(i)]") }
        let names = custom.map(\.name)
        if Set(names).count != names.count { out.append("guards.dlp.custom: two detectors have the same name") }
        return out
    }
}
