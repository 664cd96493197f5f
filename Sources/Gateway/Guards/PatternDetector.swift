import Foundation
import SemanticCache

/// A detector made of a regular expression: a custom DLP pattern or a deny-list.
struct PatternDetector: @unchecked Sendable {
    // `NSRegularExpression` is immutable once made and safe to use from any thread.
    let regex: NSRegularExpression
    /// The name in metrics and errors.
    let name: String
    /// The placeholder's word.
    let word: String
    /// The value's kind in a sentence: "a match of the custom detector 'employee_id'".
    let description: String
    let prompt: GuardAction
    let answer: GuardAction
    /// Model globs it applies to; empty: every model.
    let models: [String]
    /// The longest text it can match, held back in a stream.
    let maxLength: Int

    func action(_ direction: GuardDirection) -> GuardAction { direction == .prompt ? prompt : answer }

    func applies(to model: String) -> Bool { models.isEmpty || models.contains { Glob.matches($0, model) } }

    /// The matches in `text` (UTF-8 byte offsets), appended to `matches`.
    func find(in text: String, detector index: Int, into matches: inout [PIIMatch]) {
        let ns = text as NSString
        for result in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) where result.range.length > 0 {
            guard let range = Range(result.range, in: text) else { continue }
            matches.append(PIIMatch(
                start: text.utf8.distance(from: text.startIndex, to: range.lowerBound),
                end: text.utf8.distance(from: text.startIndex, to: range.upperBound), detector: index))
        }
    }
}
