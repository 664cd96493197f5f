import Foundation

/// Terms and patterns refused or redacted in prompts or answers (`guards.deny`), for every
/// model or the routes named.
public struct DenyList: Codable, Sendable, Equatable {
    /// The list's name in metrics and errors ("a term of the deny-list 'competitors'").
    public var name: String
    /// Words or phrases, matched whole (not inside a longer word), case-insensitive unless
    /// `ignore_case` is off.
    public var terms: [String]
    /// Regular expressions (ICU syntax).
    public var patterns: [String]
    public var ignoreCase: Bool
    /// Action on prompts: `block` (default), `redact`, `log` or `off`.
    public var prompt: GuardAction
    /// Action on answers: `off` by default.
    public var answer: GuardAction
    /// Model globs the list applies to (the routes of `models:`); empty: all.
    public var models: [String]
    /// The placeholder's word when redacting; default `DENIED`.
    public var placeholder: String?

    public init(
        name: String, terms: [String] = [], patterns: [String] = [], ignoreCase: Bool = true, prompt: GuardAction = .block,
        answer: GuardAction = .off, models: [String] = [], placeholder: String? = nil
    ) {
        self.name = name
        self.terms = terms
        self.patterns = patterns
        self.ignoreCase = ignoreCase
        self.prompt = prompt
        self.answer = answer
        self.models = models
        self.placeholder = placeholder
    }

    enum CodingKeys: String, CodingKey {
        case name, terms, patterns, prompt, answer, models, placeholder
        case ignoreCase = "ignore_case"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        terms = try c.decodeIfPresent([String].self, forKey: .terms) ?? []
        patterns = try c.decodeIfPresent([String].self, forKey: .patterns) ?? []
        ignoreCase = try c.decodeIfPresent(Bool.self, forKey: .ignoreCase) ?? true
        prompt = try c.decodeIfPresent(GuardAction.self, forKey: .prompt) ?? .block
        answer = try c.decodeIfPresent(GuardAction.self, forKey: .answer) ?? .off
        models = try c.decodeIfPresent([String].self, forKey: .models) ?? []
        placeholder = try c.decodeIfPresent(String.self, forKey: .placeholder)
    }

    var placeholderWord: String { placeholder ?? "DENIED" }

    /// Longest match held back in a stream: the longest term, or 128 bytes for a pattern.
    var maxLength: Int { max(terms.map(\.utf8.count).max() ?? 0, patterns.isEmpty ? 0 : 128) }

    /// One expression for the whole list: each term whole (no letter, digit or `_` on either
    /// side), each pattern as written.
    var expression: String {
        let words = terms.map { "(?<![\\p{L}\\p{N}_])" + NSRegularExpression.escapedPattern(for: $0) + "(?![\\p{L}\\p{N}_])" }
        return (words + patterns.map { "(?:\($0))" }).joined(separator: "|")
    }

    var regex: NSRegularExpression? {
        try? NSRegularExpression(pattern: expression, options: ignoreCase ? [.caseInsensitive] : [])
    }

    func problems(at path: String) -> [String] {
        var out: [String] = []
        if name.isEmpty { out.append("\(path).name: must not be empty") }
        if terms.isEmpty && patterns.isEmpty { out.append("\(path): needs terms or patterns") }
        if terms.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) { out.append("\(path).terms: a term is empty") }
        for (i, p) in patterns.enumerated() {
            if let problem = CustomDetector.patternProblem(p, ignoreCase: ignoreCase) { out.append("\(path).patterns[\(i)]: \(problem)") }
        }
        if !placeholderWord.utf8.allSatisfy({ ASCII.isUpper($0) || ASCII.isDigit($0) || $0 == 0x5F }) || placeholderWord.isEmpty {
            out.append("\(path).placeholder: must be capitals, digits and _, got '\(placeholderWord)'")
        }
        return out
    }
}
