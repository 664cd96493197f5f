/// What a DLP detector or deny-list does with what it finds, in one direction.
public enum GuardAction: String, Codable, Sendable, Equatable, CaseIterable {
    /// Not looked for.
    case off
    /// Counted (`deja_guard_detections_total`) and marked in the request log; the text is unchanged.
    case log
    /// Replaced by a typed placeholder, `[EMAIL]`.
    case redact
    /// The request (or the answer) refused with a 400 that names the detector, never the value.
    case block
}

/// Which text a guard looks at: the prompt on its way to the provider, or the answer on its way back.
public enum GuardDirection: String, Sendable, Equatable {
    case prompt, answer
}
