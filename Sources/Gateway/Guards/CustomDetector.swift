import Foundation

/// A detector of the operator's own (`guards.dlp.custom`): a regular expression, its
/// placeholder and its actions.
public struct CustomDetector: Codable, Sendable, Equatable {
    /// The detector's name in metrics, errors and the placeholder's default.
    public var name: String
    /// An ICU regular expression (as Foundation's `NSRegularExpression` takes it).
    public var pattern: String
    /// The placeholder's word, `[EMPLOYEE_ID]`; default: the name in capitals.
    public var placeholder: String?
    /// Whether the pattern ignores case.
    public var ignoreCase: Bool
    public var prompt: GuardAction?
    public var answer: GuardAction?
    /// The longest text the pattern can match, in bytes: in a stream, this much is held back so
    /// that a match split over chunks is still caught.
    public var maxLength: Int

    public init(
        name: String, pattern: String, placeholder: String? = nil, ignoreCase: Bool = false, prompt: GuardAction? = nil,
        answer: GuardAction? = nil, maxLength: Int = 64
    ) {
        self.name = name
        self.pattern = pattern
        self.placeholder = placeholder
        self.ignoreCase = ignoreCase
        self.prompt = prompt
        self.answer = answer
        self.maxLength = maxLength
    }

    enum CodingKeys: String, CodingKey {
        case name, pattern, placeholder, prompt, answer
        case ignoreCase = "ignore_case", maxLength = "max_length"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        pattern = try c.decode(String.self, forKey: .pattern)
        placeholder = try c.decodeIfPresent(String.self, forKey: .placeholder)
        ignoreCase = try c.decodeIfPresent(Bool.self, forKey: .ignoreCase) ?? false
        prompt = try c.decodeIfPresent(GuardAction.self, forKey: .prompt)
        answer = try c.decodeIfPresent(GuardAction.self, forKey: .answer)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? 64
    }

    var placeholderWord: String { placeholder ?? name.uppercased() }

    func problems(at path: String) -> [String] {
        var out: [String] = []
        if name.isEmpty || PIIDetector(name: name) != nil {
            out.append("\(path).name: must be a name of its own, not empty and not a built-in detector's, got '\(name)'")
        }
        if let problem = Self.patternProblem(pattern, ignoreCase: ignoreCase) { out.append("\(path).pattern: \(problem)") }
        if !placeholderWord.utf8.allSatisfy({ ASCII.isUpper($0) || ASCII.isDigit($0) || $0 == 0x5F }) || placeholderWord.isEmpty {
            out.append("\(path).placeholder: must be capitals, digits and _, got '\(placeholderWord)'")
        }
        if !(1...4096).contains(maxLength) { out.append("\(path).max_length: must be between 1 and 4096, got \(maxLength)") }
        return out
    }

    static func patternProblem(_ pattern: String, ignoreCase: Bool) -> String? {
        do {
            let regex = try NSRegularExpression(pattern: pattern, options: ignoreCase ? [.caseInsensitive] : [])
            let empty = regex.firstMatch(in: "", range: NSRange(location: 0, length: 0))
            return empty == nil ? nil : "must not match the empty string"
        } catch {
            return "is not a valid regular expression: \(pattern)"
        }
    }
}
