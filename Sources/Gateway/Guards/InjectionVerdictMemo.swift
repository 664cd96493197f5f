import DejaSupport

/// Injection verdicts of prompts seen lately. The score is a function of the text alone, and a
/// cache exists because prompts repeat: an exact hit's prompt was scored when it first came, and
/// scoring it again cost more than the rest of the guards together. Bounded in entries and in
/// the length of the prompts it keeps; when full, it starts again empty.
final class InjectionVerdictMemo: Sendable {
    static let capacity = 4096
    static let longestPrompt = 2048

    private let verdicts = Mutex([String: InjectionScorer.Verdict]())

    func verdict(_ text: String, _ scorer: InjectionScorer) -> InjectionScorer.Verdict {
        guard text.utf8.count <= Self.longestPrompt else { return scorer.score(text) }
        if let known = verdicts.withLock({ $0[text] }) { return known }
        let verdict = scorer.score(text)
        verdicts.withLock { memo in
            if memo.count >= Self.capacity { memo.removeAll(keepingCapacity: true) }
            memo[text] = verdict
        }
        return verdict
    }
}
