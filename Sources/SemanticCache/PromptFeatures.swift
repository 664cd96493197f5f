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
        var negated = false
        for (position, range) in normalized.words.enumerated() {
            let h = Self.hash(scalars[range])
            if !Self.functionWordHashes.contains(h) {
                content.append(h)
                positions.append(position)
            }
            if Self.negatorHashes.contains(h) { negated = true }
            if let word = Self.antonymWords[h] { polar.insert(word) }
            if let number = Self.numberWordHashes[h] { spelled.append(number) }
        }
        words = normalized.count
        contentSequence = content
        contentPositions = positions
        contentWords = content.count
        self.negated = negated
        polarWords = polar
        numbers = Self.digitRuns(in: text) + spelled
        names = Self.names(in: text)
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

    static let functionWordHashes = Set(functionWords.map { hash($0) })
    static let negatorHashes = Set(negators.map { hash($0) })
    static let antonymWords: [UInt64: String] = Dictionary(
        antonyms.keys.map { (hash($0), $0) }, uniquingKeysWith: { a, _ in a })
    static let numberWordHashes: [UInt64: String] = Dictionary(
        numberWords.map { (hash($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })

    static func names(in text: String) -> Set<String> {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiNames(Array(text.utf8)) }
        var out = Set<String>()
        var sentenceStart = true
        var words = 0
        var capitalised = 0
        for token in text.split(whereSeparator: { $0.isWhitespace }) {
            // Trimmed of everything but letters, marks and digits, as the ASCII path does ("C++" → "c").
            let word = token.trimmingCharacters(in: Self.notAlphanumeric)
            defer { sentenceStart = token.last.map { ".?!:".contains($0) } ?? false }
            guard let first = word.first, first.isLetter else { continue }
            words += 1
            let inner = word.dropFirst()
            let upperFirst = first.isUppercase
            if upperFirst { capitalised += 1 }
            let mixed = inner.contains { $0.isUppercase } || (word.contains { $0.isNumber } && word.contains { $0.isLetter })
            if (upperFirst && !sentenceStart && word != "I") || mixed {
                out.insert(word.lowercased())
            }
        }
        return words > 0 && capitalised * 2 > words ? [] : out
    }

    static let notAlphanumeric = CharacterSet.alphanumerics.inverted

    /// ``names(in:)`` on ASCII bytes.
    static func asciiNames(_ bytes: [UInt8]) -> Set<String> {
        @inline(__always) func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
        @inline(__always) func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        @inline(__always) func isAlnum(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) || isDigit(b) }
        var out = Set<String>()
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
            guard a < b, isUpper(bytes[a]) || isLower(bytes[a]) else { continue }
            words += 1
            let upperFirst = isUpper(bytes[a])
            if upperFirst { capitalised += 1 }
            var innerUpper = false
            var hasDigit = false
            var hasLetter = false
            for k in a..<b {
                if k > a && isUpper(bytes[k]) { innerUpper = true }
                if isDigit(bytes[k]) { hasDigit = true } else if isUpper(bytes[k]) || isLower(bytes[k]) { hasLetter = true }
            }
            let single = b - a == 1 && bytes[a] == 0x49  // "I"
            if (upperFirst && !sentenceStart && !single) || innerUpper || (hasDigit && hasLetter) {
                out.insert(String(decoding: bytes[a..<b].map { isUpper($0) ? $0 + 0x20 : $0 }, as: UTF8.self))
            }
        }
        return words > 0 && capitalised * 2 > words ? [] : out
    }

    static let functionWords = Set(TokenWeights.functionWords + ["hi", "hello", "hey", "thanks", "thank", "ok", "okay"])

    static let negators: Set<String> = [
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "cant",
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "wouldnt", "shouldnt",
        "couldnt", "mustnt", "hasnt", "havent", "hadnt", "aint", "nowhere",
    ]

    /// Pairs of words that turn a question into its opposite ("turn on" / "turn off").
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
        ("celsius", "fahrenheit"), ("buying", "selling"), ("in", "out"),
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
        "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
        "million": "1000000", "billion": "1000000000", "half": "0.5", "dozen": "12",
    ]

    /// Digit runs (with `.` or `,` between digits), in order, normalised. Number words come
    /// after them, in their own order; mixed orders are rare and compare unequal, which errs
    /// towards a miss. "one" is not a number word here: it is a pronoun as often as a number
    /// ("which one is faster").
    static func digitRuns(in text: String) -> [String] {
        var found: [String] = []
        var run: [UInt8] = []
        /// Appends the run that just ended, if any.
        func close() {
            if !run.isEmpty { found.append(normalizeNumber(run)) }
            run.removeAll(keepingCapacity: true)
        }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var previous: UInt8 = 0
            var pendingSeparator: UInt8?
            for b in text.utf8 {
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
        // Decimal digits of any script count, as their ASCII digit: "٣" and "3" are one number.
        let scalars = Array(text.unicodeScalars)
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
