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
        let utf16 = Array(text.utf16)
        for result in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) where result.range.length > 0 {
            let start = Self.utf8Offset(utf16, result.range.location)
            let end = Self.utf8Offset(utf16, result.range.location + result.range.length)
            matches.append(PIIMatch(start: start, end: end, detector: index))
        }
    }

    /// The UTF-8 offset of a UTF-16 offset.
    static func utf8Offset(_ utf16: [UInt16], _ offset: Int) -> Int {
        var bytes = 0
        var i = 0
        while i < offset {
            let u = utf16[i]
            if u < 0x80 { bytes += 1 } else if u < 0x800 { bytes += 2 } else if u & 0xFC00 == 0xD800 { bytes += 4; i += 1 } else { bytes += 3 }
            i += 1
        }
        return bytes
    }
}
