import DejaSupport
import Foundation

/// The DLP detectors and deny-lists of `guards:`, compiled: finds values in text and applies
/// each one's action (log, redact or block) for a direction.
public final class DataGuard: Sendable {
    public let configuration: DLPConfiguration
    let promptScanner: PIIScanner
    let answerScanner: PIIScanner
    /// Actions of the built-in detectors, by raw value.
    let promptActions: [GuardAction]
    let answerActions: [GuardAction]
    /// Custom patterns, then deny-lists; detector index = built-ins' count + position.
    let patterns: [PatternDetector]
    /// The longest pattern match, held back in streams.
    let patternHold: Int

    public init(_ guards: GuardsConfiguration) {
        let dlp = guards.dlp
        configuration = dlp
        promptActions = PIIDetector.allCases.map { dlp.action($0, .prompt) }
        answerActions = PIIDetector.allCases.map { dlp.action($0, .answer) }
        promptScanner = PIIScanner(PIIDetector.allCases.filter { dlp.action($0, .prompt) != .off })
        answerScanner = PIIScanner(PIIDetector.allCases.filter { dlp.action($0, .answer) != .off })
        var patterns: [PatternDetector] = []
        for custom in dlp.custom {
            guard let regex = try? NSRegularExpression(pattern: custom.pattern, options: custom.ignoreCase ? [.caseInsensitive] : [])
            else { continue }  // refused by validation before this
            patterns.append(PatternDetector(
                regex: regex, name: custom.name, word: custom.placeholderWord,
                description: "a match of the custom detector '\(custom.name)'", prompt: custom.prompt ?? dlp.prompt,
                answer: custom.answer ?? dlp.answer, models: [], maxLength: custom.maxLength))
        }
        for list in guards.deny {
            guard let regex = list.regex else { continue }
            patterns.append(PatternDetector(
                regex: regex, name: list.name, word: list.placeholderWord, description: "a term of the deny-list '\(list.name)'",
                prompt: list.prompt, answer: list.answer, models: list.models, maxLength: list.maxLength))
        }
        self.patterns = patterns.filter { $0.prompt != .off || $0.answer != .off }
        patternHold = self.patterns.map(\.maxLength).max() ?? 0
    }

    /// `nil` when nothing is looked for in either direction.
    static func make(_ guards: GuardsConfiguration) -> DataGuard? {
        let made = DataGuard(guards)
        return made.screens(.prompt) || made.screens(.answer) ? made : nil
    }

    func screens(_ direction: GuardDirection) -> Bool {
        scanner(direction).enabled != 0 || patterns.contains { $0.action(direction) != .off }
    }

    func scanner(_ direction: GuardDirection) -> PIIScanner { direction == .prompt ? promptScanner : answerScanner }

    func action(_ detector: Int, _ direction: GuardDirection) -> GuardAction {
        if detector < PIIDetector.allCases.count {
            return direction == .prompt ? promptActions[detector] : answerActions[detector]
        }
        return patterns[detector - PIIDetector.allCases.count].action(direction)
    }

    func name(_ detector: Int) -> String {
        detector < PIIDetector.allCases.count ? PIIDetector(rawValue: detector)!.name : patterns[detector - PIIDetector.allCases.count].name
    }

    func word(_ detector: Int) -> String {
        detector < PIIDetector.allCases.count
            ? PIIDetector(rawValue: detector)!.placeholder : patterns[detector - PIIDetector.allCases.count].word
    }

    func description(_ detector: Int) -> String {
        detector < PIIDetector.allCases.count
            ? PIIDetector(rawValue: detector)!.description : patterns[detector - PIIDetector.allCases.count].description
    }

    /// The values in `bytes`, sorted and not overlapping.
    /// - Returns: the matches, and where the text must be held back from (see ``PIIScanner/scan(_:before:final:into:)``).
    func matches(in bytes: UnsafeBufferPointer<UInt8>, text: @autoclosure () -> String, _ direction: GuardDirection, model: String,
                 before: UInt8 = 0x20, final: Bool) -> ([PIIMatch], Int)
    {
        var found: [PIIMatch] = []
        var hold = scanner(direction).scan(bytes, before: before, final: final, into: &found)
        var patternsFound = false
        if !patterns.isEmpty {
            let string = text()
            for (k, pattern) in patterns.enumerated() where pattern.action(direction) != .off && pattern.applies(to: model) {
                pattern.find(in: string, detector: PIIDetector.allCases.count + k, into: &found)
                patternsFound = true
            }
        }
        guard patternsFound else { return (found, hold) }
        if !final {
            hold = min(hold, max(0, bytes.count - patternHold))
            while hold > 0 && hold < bytes.count && bytes[hold] & 0xC0 == 0x80 { hold -= 1 }
        }
        found.sort { ($0.start, -$0.end) < ($1.start, -$1.end) }
        var kept: [PIIMatch] = []
        for m in found where m.start >= (kept.last?.end ?? 0) { kept.append(m) }
        if !final {
            while let last = kept.last, last.end > hold {
                hold = min(hold, last.start)
                kept.removeLast()
            }
        }
        return (kept, hold)
    }

    /// `text` with its values handled: redacted ones replaced, logged ones counted.
    /// - Returns: the new text, or `nil` when it is unchanged.
    /// - Throws: 400 naming the first value whose detector blocks in this direction.
    func screen(_ text: String, _ direction: GuardDirection, model: String, _ redactions: inout Redactions) throws(OpenAIError) -> String? {
        var text = text
        var local = redactions
        let result = text.withUTF8 { bytes -> Result<String?, OpenAIError> in
            let (found, _) = matches(in: bytes, text: String(decoding: bytes, as: UTF8.self), direction, model: model, final: true)
            return Result { () throws(OpenAIError) in try rewrite(bytes, found, upTo: bytes.count, direction, &local) }
        }
        redactions = local
        return try result.get()
    }

    /// The bytes before `end` with the actions of `found` applied; `nil` when nothing changes.
    func rewrite(
        _ bytes: UnsafeBufferPointer<UInt8>, _ found: [PIIMatch], upTo end: Int, _ direction: GuardDirection, _ redactions: inout Redactions
    ) throws(OpenAIError) -> String? {
        guard !found.isEmpty else { return nil }
        var out: [UInt8] = []
        var copied = 0
        for m in found where m.end <= end {
            let action = action(m.detector, direction)
            redactions.count(name(m.detector), action)
            switch action {
            case .off, .log:
                continue
            case .block:
                throw Self.blocked(description(m.detector), name: name(m.detector), direction)
            case .redact:
                if out.isEmpty { out.reserveCapacity(end + 16) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copied..<m.start]))
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[m.start..<m.end]), as: UTF8.self)
                out.append(contentsOf: redactions.placeholder(for: value, word: word(m.detector)).utf8)
                copied = m.end
            }
        }
        guard copied > 0 else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copied..<end]))
        return String(decoding: out, as: UTF8.self)
    }

    /// What `deja guard scan`, `deja guard dlp` and `deja bench guards` see: the values in
    /// `text` by detector name and UTF-8 byte range, whatever their action.
    public func findings(in text: String, _ direction: GuardDirection, model: String = "") -> [(detector: String, start: Int, end: Int)] {
        var text = text
        return text.withUTF8 { bytes in
            matches(in: bytes, text: String(decoding: bytes, as: UTF8.self), direction, model: model, final: true).0
                .map { (name($0.detector), $0.start, $0.end) }
        }
    }

    /// `text` with the actions of `direction` applied (what a provider or client would get).
    /// - Throws: the 400 a blocked value gets.
    public func screened(_ text: String, _ direction: GuardDirection, model: String = "") throws(OpenAIError) -> String {
        var redactions = Redactions(reversible: configuration.reversible && direction == .prompt)
        return try screen(text, direction, model: model, &redactions) ?? text
    }

    static func blocked(_ description: String, name: String, _ direction: GuardDirection) -> OpenAIError {
        let what = direction == .prompt ? "The request" : "The provider's answer"
        return OpenAIError.invalidRequest(
            "\(what) contains \(description), which this gateway does not let through (guards: \(name), \(direction.rawValue): block)",
            code: direction == .prompt ? "prompt_blocked" : "answer_blocked")
    }
}
