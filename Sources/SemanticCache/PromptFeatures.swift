public import Embedding
import Foundation

/// What the false-positive guard compares between two prompts. Computed on every lookup and
/// insert, so words are compared by their hashes rather than as strings.
public struct PromptFeatures: Sendable, Equatable {
    /// Numbers in order of appearance, normalised (`3,000` → `3000`, `2.50` → `2.5`, `two` → `2`).
    public var numbers: [String]
    /// Whether the prompt contains a negation (not, no, never, don't, without, ...).
    public var negated: Bool
    /// Words of the guard's antonym pairs that the prompt contains (on, off, enable, ...).
    public var polarWords: Set<String>
    /// Words, and words that are not function words.
    public var words: Int
    public var contentWords: Int
    /// The content words in order (as hashes), to spot the same words rearranged ("flights from
    /// Paris to London" / "from London to Paris").
    public var contentSequence: [UInt64]
    /// Where each content word stands among all the words (same order as `contentSequence`):
    /// whether two content words are next to each other ("git branch") or apart ("branch in
    /// git", "Paris to London").
    public var contentPositions: [Int]
    /// Names, in lower case: capitalised words that do not start a sentence, and words with a
    /// capital or a digit inside ("iOS", "GPT4"). Empty when the text is mostly capitals.
    public var names: Set<String>
    /// Runs of two or more capitalised words by their initials ("aws" → amazon, web, services),
    /// so that a name spelled out matches its abbreviation in the other prompt ("Machine
    /// Learning" / "ML"); see ``unmatchedNames(_:_:)``.
    public var initialisms: [String: Set<String>]

    public init(_ text: String) {
        self.init(NormalizedText(text))
    }

    /// The features of a text already normalised (its words are counted and hashed, its
    /// ``NormalizedText/source`` read for numbers and names).
    public init(_ normalized: NormalizedText) {
        let text = normalized.source
        let scalars = normalized.scalars
        var content: [UInt64] = []
        var positions: [Int] = []
        var spelled: [String] = []
        var polar = Set<String>()
        var negators = 0
        var previous: (article: Bool, spelled: Bool) = (false, false)
        for (position, range) in normalized.words.enumerated() {
            let h = Self.hash(scalars[range])
            let role = Self.roles[h] ?? WordRole()
            defer { previous = (role.article, role.number != nil) }
            if !role.function {
                content.append(h)
                positions.append(position)
            }
            if role.negator { negators += 1 }
            if let word = role.antonym { polar.insert(word) }
            if let number = role.number {
                spelled.append(number)
            } else if let factor = role.multiplier {
                // "two thousand" is 2000 and "a thousand" 1000; "several thousand" and
                // "thousands" are no number at all, as vague as "many".
                if previous.spelled, let last = spelled.popLast(), let value = Double(last) {
                    spelled.append(Self.spell(value * factor))
                } else if previous.article {
                    spelled.append(Self.spell(factor))
                }
            }
        }
        words = normalized.count
        contentSequence = content
        contentPositions = positions
        contentWords = content.count
        polarWords = polar
        numbers = Self.digitRuns(in: text) + spelled
        (names, initialisms) = Self.names(in: text)
        // A negation capitalised inside a sentence is part of a title, not a negation: "a 404
        // Not Found error", "Do Not Disturb mode".
        let titled = names.intersection(Self.negators)
        names.subtract(titled)
        negated = negators > titled.count
    }

    /// Each prompt's names that the other does not share, once abbreviations are matched with
    /// what they abbreviate ("ML" / "Machine Learning", "AWS" / "Amazon Web Services") and a name
    /// with a longer spelling of it ("Postgres" / "PostgreSQL").
    public static func unmatchedNames(_ a: PromptFeatures, _ b: PromptFeatures) -> (Set<String>, Set<String>) {
        var left = a.names.subtracting(b.names)
        var right = b.names.subtracting(a.names)
        guard !left.isEmpty || !right.isEmpty else { return ([], []) }
        for name in left {
            if let words = b.initialisms[name] {
                left.remove(name)
                right.subtract(words)
            }
        }
        for name in right {
            if let words = a.initialisms[name] {
                right.remove(name)
                left.subtract(words)
            }
        }
        for name in left where name.count >= 4 {
            if let other = right.first(where: { $0.count >= 4 && ($0.hasPrefix(name) || name.hasPrefix($0)) }) {
                left.remove(name)
                right.remove(other)
            }
        }
        return (left, right)
    }

    @inline(__always)
    static func hash(_ word: ArraySlice<UInt32>) -> UInt64 {
        var h = FeatureHash(tag: 0x47)  // "G"
        h.add(scalars: word)
        return h.value
    }

    static func hash(_ word: String) -> UInt64 {
        hash(NormalizedText(word).scalars[...])
    }

    /// What a word is to the features (function word, negation, antonym, number, multiplier,
    /// article): one lookup per word of every prompt, where a set per list took six.
    struct WordRole {
        var function = false
        var negator = false
        var article = false
        var antonym: String?
        var number: String?
        var multiplier: Double?
    }

    /// The roles of every word on the lists, by the word's hash (the first spelling of a hash wins).
    static let roles: [UInt64: WordRole] = {
        var roles: [UInt64: WordRole] = [:]
        for word in functionWords { roles[hash(word), default: WordRole()].function = true }
        for word in negators { roles[hash(word), default: WordRole()].negator = true }
        for word in ["a", "an", "one"] { roles[hash(word), default: WordRole()].article = true }
        for word in antonyms.keys where roles[hash(word)]?.antonym == nil {
            roles[hash(word), default: WordRole()].antonym = word
        }
        for (word, value) in numberWords where roles[hash(word)]?.number == nil {
            roles[hash(word), default: WordRole()].number = value
        }
        for (word, factor) in multiplierWords where roles[hash(word)]?.multiplier == nil {
            roles[hash(word), default: WordRole()].multiplier = factor
        }
        return roles
    }()

    /// A number as ``normalizeNumber(_:)`` spells it: whole numbers without a decimal point.
    static func spell(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Names, and runs of capitalised words by their initials (``initialisms``).
    static func names(in text: String) -> (Set<String>, [String: Set<String>]) {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiNames(Array(text.utf8)) }
        var out = Set<String>()
        var runs = CapitalisedRuns()
        var sentenceStart = true
        var words = 0
        var capitalised = 0
        for token in text.split(whereSeparator: { $0.isWhitespace }) {
            // Trimmed of everything but letters, marks and digits, as the ASCII path does ("C++" → "c").
            let word = token.trimmingCharacters(in: Self.notAlphanumeric)
            let endsSentence = token.last.map { ".?!:".contains($0) } ?? false
            defer { sentenceStart = endsSentence }
            guard let first = word.first, first.isLetter else {
                runs.close()
                continue
            }
            words += 1
            let inner = word.dropFirst()
            let upperFirst = first.isUppercase
            if upperFirst { capitalised += 1 }
            if let lead = token.first, !lead.isLetter && !lead.isNumber { runs.close() }
            runs.add(upperFirst ? word.lowercased() : nil, initial: first.lowercased().unicodeScalars.first!)
            if let last = token.last, !last.isLetter && !last.isNumber { runs.close() }
            let mixed = inner.contains { $0.isUppercase } || (word.contains { $0.isNumber } && word.contains { $0.isLetter })
            if (upperFirst && !sentenceStart && word != "I") || mixed {
                out.insert(word.lowercased())
            }
        }
        runs.close()
        return words > 0 && capitalised * 2 > words ? ([], [:]) : (out, runs.initialisms)
    }

    /// Collects runs of capitalised words ("Amazon Web Services") by their initials ("aws").
    struct CapitalisedRuns {
        var initialisms: [String: Set<String>] = [:]
        var words: [String] = []
        var initials = String.UnicodeScalarView()

        /// The next word: capitalised (lower-cased here), or `nil` to end the run.
        mutating func add(_ word: String?, initial: Unicode.Scalar) {
            guard let word else { return close() }
            words.append(word)
            initials.append(initial)
        }

        mutating func close() {
            if words.count >= 2 { initialisms[String(initials), default: []].formUnion(words) }
            words.removeAll()
            initials.removeAll()
        }
    }

    static let notAlphanumeric = CharacterSet.alphanumerics.inverted

    /// ``names(in:)`` on ASCII bytes.
    static func asciiNames(_ bytes: [UInt8]) -> (Set<String>, [String: Set<String>]) {
        @inline(__always) func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
        @inline(__always) func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        @inline(__always) func isAlnum(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) || isDigit(b) }
        @inline(__always) func lowered(_ b: UInt8) -> UInt8 { isUpper(b) ? b + 0x20 : b }
        var out = Set<String>()
        var runs = CapitalisedRuns()
        var sentenceStart = true
        var words = 0
        var capitalised = 0
        var i = 0
        while i < bytes.count {
            while i < bytes.count && (bytes[i] == 0x20 || (bytes[i] >= 0x09 && bytes[i] <= 0x0D)) { i += 1 }
            let tokenStart = i
            while i < bytes.count && !(bytes[i] == 0x20 || (bytes[i] >= 0x09 && bytes[i] <= 0x0D)) { i += 1 }
            guard i > tokenStart else { continue }
            var a = tokenStart
            var b = i
            while a < b && !isAlnum(bytes[a]) { a += 1 }
            while b > a && !isAlnum(bytes[b - 1]) { b -= 1 }
            let endsSentence = [0x2E, 0x3F, 0x21, 0x3A].contains(bytes[i - 1])
            defer { sentenceStart = endsSentence }
            guard a < b, isUpper(bytes[a]) || isLower(bytes[a]) else {
                runs.close()
                continue
            }
            words += 1
            let upperFirst = isUpper(bytes[a])
            if upperFirst { capitalised += 1 }
            let lower = upperFirst ? String(decoding: bytes[a..<b].map(lowered), as: UTF8.self) : nil
            if a > tokenStart { runs.close() }  // so does punctuation before it
            runs.add(lower, initial: Unicode.Scalar(lowered(bytes[a])))
            if b < i { runs.close() }  // punctuation after the word ends a run
            var innerUpper = false
            var hasDigit = false
            var hasLetter = false
            for k in a..<b {
                if k > a && isUpper(bytes[k]) { innerUpper = true }
                if isDigit(bytes[k]) { hasDigit = true } else if isUpper(bytes[k]) || isLower(bytes[k]) { hasLetter = true }
            }
            let single = b - a == 1 && bytes[a] == 0x49  // "I"
            if (upperFirst && !sentenceStart && !single) || innerUpper || (hasDigit && hasLetter) {
                out.insert(lower ?? String(decoding: bytes[a..<b].map(lowered), as: UTF8.self))
            }
        }
        runs.close()
        return words > 0 && capitalised * 2 > words ? ([], [:]) : (out, runs.initialisms)
    }

    static let functionWords = Set(TokenWeights.functionWords + ["hi", "hello", "hey", "thanks", "thank", "ok", "okay"])

    static let negators: Set<String> = [
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "cant",
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt",
        "couldnt", "mustnt", "hasnt", "havent", "hadnt", "aint", "nowhere",
    ]

    /// Pairs of words that turn a question into its opposite ("turn on" / "turn off"). "in" and
    /// "out" are not among them: they are particles far more often than opposites ("find out
    /// which port ..." / "... in Linux").
    static let antonymPairs: [(String, String)] = [
        ("on", "off"), ("enable", "disable"), ("enabled", "disabled"), ("start", "stop"), ("open", "close"),
        ("increase", "decrease"), ("add", "remove"), ("lock", "unlock"), ("show", "hide"), ("allow", "block"),
        ("allow", "deny"), ("include", "exclude"), ("before", "after"), ("maximum", "minimum"), ("max", "min"),
        ("upload", "download"), ("import", "export"), ("encrypt", "decrypt"), ("buy", "sell"),
        ("accept", "reject"), ("connect", "disconnect"), ("install", "uninstall"), ("subscribe", "unsubscribe"),
        ("activate", "deactivate"), ("login", "logout"), ("mute", "unmute"), ("true", "false"),
        ("positive", "negative"), ("ascending", "descending"), ("inside", "outside"), ("above", "below"),
        ("higher", "lower"), ("more", "less"), ("better", "worse"), ("best", "worst"), ("first", "last"),
        ("left", "right"), ("up", "down"), ("over", "under"), ("hot", "cold"), ("light", "dark"),
        ("push", "pull"), ("input", "output"), ("send", "receive"), ("win", "lose"), ("public", "private"),
        ("internal", "external"), ("north", "south"), ("east", "west"), ("early", "late"), ("fast", "slow"),
        ("large", "small"), ("big", "small"), ("long", "short"), ("high", "low"), ("old", "new"),
        ("encode", "decode"), ("compress", "decompress"), ("merge", "split"), ("join", "leave"),
        ("read", "write"), ("sum", "difference"), ("add", "subtract"), ("multiply", "divide"),
        ("celsius", "fahrenheit"), ("buying", "selling"),
        // Comparative and adverb forms: the words are matched as written, not stemmed.
        ("faster", "slower"), ("quickly", "slowly"), ("fast", "slowly"), ("quick", "slow"),
        ("larger", "smaller"), ("bigger", "smaller"), ("longer", "shorter"), ("older", "newer"),
        ("earlier", "later"), ("start", "end"), ("begin", "end"), ("started", "ended"),
        ("begins", "ends"), ("starts", "ends"),
    ]

    static let antonyms: [String: Set<String>] = {
        var map: [String: Set<String>] = [:]
        for (a, b) in antonymPairs {
            map[a, default: []].insert(b)
            map[b, default: []].insert(a)
        }
        return map
    }()

    static let numberWords: [String: String] = [
        "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
        "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
        "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
        "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
        "seventy": "70", "eighty": "80", "ninety": "90", "half": "0.5",
    ]

    /// Words that multiply the number before them, and are a number only after one ("two
    /// hundred") or an article ("a dozen").
    static let multiplierWords: [String: Double] = [
        "dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000,
    ]

    /// Digit runs (with `.` or `,` between digits), in order, normalised. Number words come
    /// after them, in their own order; mixed orders are rare and compare unequal, which errs
    /// towards a miss. "one" is not a number word here: it is a pronoun as often as a number
    /// ("which one is faster").
    static func digitRuns(in text: String) -> [String] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes = Array(text.utf8)
            blankEnumerators(&bytes)
            return digitRuns(ascii: bytes)
        }
        var scalars = text.unicodeScalars.map(\.value)
        blankEnumerators(&scalars)
        return digitRuns(scalars: scalars)
    }

    /// Replaces the numbers of a list's items with spaces: "1)", "(2)", and "3." at the start of
    /// a line. They count items, not what is asked: "in two steps: 1) build, 2) deploy" asks
    /// what "a two-step process: first build, then deploy" does.
    static func blankEnumerators<C: FixedWidthInteger>(_ text: inout [C]) {
        @inline(__always) func isDigit(_ c: C) -> Bool { c >= 0x30 && c <= 0x39 }
        @inline(__always) func isLineEnd(_ c: C) -> Bool {
            (c >= 0x0A && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029
        }
        @inline(__always) func isSpace(_ c: C) -> Bool {
            c == 0x20 || c == 0x09 || isLineEnd(c) || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x202F || c == 0x205F || c == 0x3000
        }
        var i = 0
        while i < text.count {
            guard isDigit(text[i]), i == 0 || !isDigit(text[i - 1]) else { i += 1; continue }
            var end = i
            while end < text.count && isDigit(text[end]) { end += 1 }
            defer { i = end }
            guard end - i <= 2, end < text.count else { continue }
            let before: C? = i > 0 ? text[i - 1] : nil
            let marker = text[end]
            var lineStart = i
            while lineStart > 0 && isSpace(text[lineStart - 1]) && !isLineEnd(text[lineStart - 1]) { lineStart -= 1 }
            let atLineStart = lineStart == 0 || isLineEnd(text[lineStart - 1])
            let item = marker == 0x29 && (before == nil || isSpace(before!) || before == 0x28 || before == 0x3A)
                || marker == 0x2E && atLineStart && (end + 1 == text.count || isSpace(text[end + 1]))
            if item {
                for k in i..<end { text[k] = 0x20 }
            }
        }
    }

    static func digitRuns(ascii bytes: [UInt8]) -> [String] {
        var found: [String] = []
        var run: [UInt8] = []
        /// Appends the run that just ended, if any.
        func close() {
            if !run.isEmpty { found.append(normalizeNumber(run)) }
            run.removeAll(keepingCapacity: true)
        }
        var previous: UInt8 = 0
        var pendingSeparator: UInt8?
        for b in bytes {
            if b >= 0x30 && b <= 0x39 {
                if let separator = pendingSeparator { run.append(separator) }
                run.append(b)
            } else if (b == 0x2E || b == 0x2C) && previous >= 0x30 && previous <= 0x39 {
                pendingSeparator = b
                previous = b
                continue
            } else {
                close()
            }
            pendingSeparator = nil
            previous = b
        }
        close()
        return found
    }

    /// ``digitRuns(in:)`` on Unicode scalars. Decimal digits of any script count, as their ASCII
    /// digit: "٣" and "3" are one number.
    static func digitRuns(scalars values: [UInt32]) -> [String] {
        var found: [String] = []
        var run: [UInt8] = []
        func close() {
            if !run.isEmpty { found.append(normalizeNumber(run)) }
            run.removeAll(keepingCapacity: true)
        }
        let scalars = values.map { Unicode.Scalar($0) ?? " " }
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if s.properties.numericType == .decimal, let value = s.properties.numericValue {
                run.append(0x30 + UInt8(value))
            } else if (s == "." || s == ","), !run.isEmpty, i + 1 < scalars.count,
                      scalars[i + 1].properties.numericType == .decimal {
                run.append(UInt8(s.value))
            } else {
                close()
            }
            i += 1
        }
        close()
        return found
    }

    /// A run of ASCII digits with `.` or `,` between them, as one canonical spelling.
    static func normalizeNumber(_ raw: [UInt8]) -> String {
        let comma: UInt8 = 0x2C, dot: UInt8 = 0x2E, zero: UInt8 = 0x30
        // "3,000" and "3,000.50" use commas for thousands; "2,5" alone is a decimal comma.
        var s = raw
        let commas = s.reduce(0) { $0 + ($1 == comma ? 1 : 0) }
        let lastGroup = s.lastIndex(of: comma).map { s.count - 1 - $0 }
        if s.contains(dot) || commas > 1 || (commas == 1 && lastGroup == 3) {
            s.removeAll { $0 == comma }
        } else if let i = s.firstIndex(of: comma) {
            s[i] = dot
        }
        if s.contains(dot) {
            while s.last == zero { s.removeLast() }
            if s.last == dot { s.removeLast() }
        }
        var leading = 0
        while s.count - leading > 1 && s[leading] == zero && s[leading + 1] != dot { leading += 1 }
        return String(decoding: s[leading...], as: UTF8.self)
    }
}
