import DejaSupport

/// Who judged a hit.
public enum VerdictSource: String, Sendable {
    /// A client, through `POST /v1/cache/feedback` or `x-deja-feedback`.
    case feedback
    /// A would-be hit forwarded anyway, its fresh answer compared (`cache.target_error_rate`).
    case verification
}

/// Verdicts on hits since the start, by source, and entries retired for being wrong too often.
final class VerdictCounters: Sendable {
    private let counts = Mutex(VerdictStats())

    func count(correct: Bool, source: VerdictSource) {
        counts.withLock { c in
            switch (source, correct) {
            case (.feedback, true): c.feedbackRight += 1
            case (.feedback, false): c.feedbackWrong += 1
            case (.verification, true): c.verificationsAgreed += 1
            case (.verification, false): c.verificationsDisagreed += 1
            }
        }
    }

    func retired() {
        counts.withLock { $0.retired += 1 }
    }


    var all: VerdictStats { counts.withLock { $0 } }
}

/// Verdicts on hits since the start (``CacheStats/verdicts``).
public struct VerdictStats: Sendable, Codable, Equatable {
    public var feedbackRight = 0
    public var feedbackWrong = 0
    /// Would-be hits verified against the provider (each a provider call the cache could have
    /// saved: what bounding the error rate costs), and how their answers compared.
    public var verificationsAgreed = 0
    public var verificationsDisagreed = 0
    public var retired = 0

    enum CodingKeys: String, CodingKey {
        case feedbackRight = "feedback_right", feedbackWrong = "feedback_wrong", verificationsAgreed = "verifications_agreed"
        case verificationsDisagreed = "verifications_disagreed", retired
    }
}
