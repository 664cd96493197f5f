import Foundation

/// BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 was trained with.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabularyPath: "models/all-MiniLM-L6-v2/vocab.txt")
/// tokenizer.encode("How do I reset my password?")
/// // [101, 2129, 2079, 1045, 25141, 2026, 20786, 1029, 102]
/// ```
///
/// Two stages, as in Google's original `tokenization.py`:
/// 1. Basic tokenisation: drop NUL, U+FFFD and other control or format characters; every
///    whitespace character separates words; each CJK ideograph is a word of its own; lower-case,
///    then strip accents (NFD, then drop non-spacing marks); every punctuation character is a word
///    of its own.
/// 2. WordPiece: each word is split greedily into the longest vocabulary entries from its start,
///    later pieces spelt with a `##` prefix. A word that cannot be split, or that is longer than
///    100 characters, becomes `[UNK]`.
///
/// The result starts with `[CLS]` and ends with `[SEP]`, and is cut to ``maxTokens`` ids.
public struct WordPieceTokenizer: Sendable {
    /// The most ids ``encode(_:)`` returns, `[CLS]` and `[SEP]` included.
    public let maxTokens: Int
    /// How many entries the vocabulary has; every id is below it.
    public let vocabularySize: Int
    public let unknownID: Int32
    public let classID: Int32
    public let separatorID: Int32
    private let ids: [String: Int32]
    private let lowercase: Bool
    private let stripAccents: Bool
    /// The longest vocabulary entry in scalars, `##` excluded: no candidate piece is longer.
    private let longestPiece: Int
    private static let maxWordScalars = 100

    /// Reads `vocab.txt`: one entry per line, the id being the line number from 0.
    ///
    /// - Parameters:
    ///   - lowercase: `do_lower_case` of `tokenizer_config.json`.
    ///   - stripAccents: `strip_accents`; `nil` means "when lower-casing", as in BERT.
    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` when the file is missing or lacks
    ///   `[UNK]`, `[CLS]` or `[SEP]`.
    public init(vocabularyPath: String, lowercase: Bool = true, stripAccents: Bool? = nil, maxTokens: Int = 256) throws(EmbeddingError) {
        guard let contents = FileManager.default.contents(atPath: vocabularyPath) else {
            throw .modelFile(path: vocabularyPath, reason: "cannot read it; run `make model`")
        }
        try self.init(vocabularyFile: contents, lowercase: lowercase, stripAccents: stripAccents, maxTokens: maxTokens, source: vocabularyPath)
    }

    /// A tokenizer over the contents of a `vocab.txt` (one entry per line), already read.
    init(vocabularyFile contents: Data, lowercase: Bool = true, stripAccents: Bool? = nil, maxTokens: Int = 256, source: String) throws(EmbeddingError) {
        guard let text = String(data: contents, encoding: .utf8) else {
            throw .modelFile(path: source, reason: "is not UTF-8 text; run `make model`")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let entries = lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        try self.init(vocabulary: entries, lowercase: lowercase, stripAccents: stripAccents, maxTokens: maxTokens, source: source)
    }

    /// A tokenizer over `vocabulary` (entry `i` has id `i`).
    public init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil, maxTokens: Int = 256, source: String = "vocabulary") throws(EmbeddingError) {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(vocabulary.count)
        var longest = 1
        for (i, entry) in vocabulary.enumerated() {
            ids[entry] = Int32(i)
            let scalars = entry.unicodeScalars.count - (entry.hasPrefix("##") ? 2 : 0)
            longest = max(longest, scalars)
        }
        func required(_ token: String) throws(EmbeddingError) -> Int32 {
            guard let id = ids[token] else { throw .modelFile(path: source, reason: "has no \(token) entry; is it a BERT vocab.txt?") }
            return id
        }
        unknownID = try required("[UNK]")
        classID = try required("[CLS]")
        separatorID = try required("[SEP]")
        guard maxTokens >= 2 else { throw .invalidConfiguration("max tokens must be at least 2, got \(maxTokens)") }
        self.ids = ids
        self.vocabularySize = vocabulary.count
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.maxTokens = maxTokens
        self.longestPiece = longest
    }

    /// `[CLS]`, the WordPiece ids of `text`, `[SEP]`: at most ``maxTokens`` ids.
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = [classID]
        out.reserveCapacity(min(maxTokens, text.utf8.count / 3 + 4))
        let limit = maxTokens - 1
        var piece = String()
        // Every basic word gives at least one id, so `limit` words are enough: a prompt of
        // megabytes is not split further than its first few hundred words.
        for word in basicWords(text, maxWords: limit) {
            if out.count >= limit { break }
            appendPieces(of: word, to: &out, limit: limit, scratch: &piece)
        }
        out.append(separatorID)
        return out
    }

    /// The words of the basic tokenisation, before WordPiece (lower-cased, accents stripped).
    public func basicTokens(_ text: String) -> [String] {
        basicWords(text).map { String(String.UnicodeScalarView($0)) }
    }

    // MARK: Basic tokenisation

    private func basicWords(_ text: String, maxWords: Int = .max) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if current.isEmpty { return }
            splitPunctuation(normalize(current), into: &words)
            current.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if words.count >= maxWords { return words }
            if Self.isWhitespace(scalar) {
                flush()
            } else if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) {
                continue
            } else if Self.isCJK(scalar.value) {
                flush()
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    /// Lower-cases and strips accents; ASCII words only need the lower-casing.
    private func normalize(_ word: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if word.allSatisfy({ $0.isASCII }) {
            guard lowercase else { return word }
            return word.map { (0x41...0x5A).contains($0.value) ? Unicode.Scalar($0.value + 32)! : $0 }
        }
        var text = String(String.UnicodeScalarView(word))
        if lowercase { text = text.lowercased() }
        guard stripAccents else { return Array(text.unicodeScalars) }
        return text.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
        }
    }

    private func splitPunctuation(_ word: [Unicode.Scalar], into words: inout [[Unicode.Scalar]]) {
        var start = 0
        for (i, scalar) in word.enumerated() where Self.isPunctuation(scalar) {
            if start < i { words.append(Array(word[start..<i])) }
            words.append([scalar])
            start = i + 1
        }
        if start == 0 {
            if !word.isEmpty { words.append(word) }
        } else if start < word.count {
            words.append(Array(word[start...]))
        }
    }

    // MARK: WordPiece

    /// Greedy longest-match-first: the whole word is `[UNK]` if any part cannot be matched.
    private func appendPieces(of word: [Unicode.Scalar], to out: inout [Int32], limit: Int, scratch: inout String) {
        guard word.count <= Self.maxWordScalars else {
            out.append(unknownID)
            return
        }
        let first = out.count
        var start = 0
        while start < word.count {
            var end = min(word.count, start + longestPiece)
            var match: Int32?
            while start < end {
                scratch.removeAll(keepingCapacity: true)
                if start > 0 { scratch.unicodeScalars.append(contentsOf: "##".unicodeScalars) }
                scratch.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = ids[scratch] {
                    match = id
                    break
                }
                end -= 1
            }
            guard let match else {
                out.removeSubrange(first...)
                out.append(unknownID)
                return
            }
            out.append(match)
            start = end
        }
        if out.count > limit { out.removeSubrange(limit...) }
    }

    // MARK: Character classes (as BERT's tokenization.py defines them)

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20, 0x09, 0x0A, 0x0D, 0x2028, 0x2029: return true
        case 0..<0x80: return false
        default: return s.properties.generalCategory == .spaceSeparator
        }
    }

    /// Any "C" category (control, format, unassigned, private use, surrogate); tab, newline and
    /// carriage return count as whitespace instead.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value < 0x20 || s.value == 0x7F }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// ASCII symbols count as punctuation too ("$", "+", "^"), as in BERT.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        if v < 0x80 { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul, which BERT leaves
    /// to WordPiece).
    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
