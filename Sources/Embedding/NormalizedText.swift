import Foundation

/// Text as Deja compares it: Unicode NFKC, lower case, split into words.
///
/// ```swift
/// let text = NormalizedText("Don't turn OFF dark-mode!")
/// text.wordStrings   // ["dont", "turn", "off", "dark", "mode"]
/// ```
///
/// - A word is a maximal run of letters, digits and combining marks. An apostrophe between two
///   letters is dropped, so "don't" is the word "dont".
/// - Each Han, Hiragana, Katakana or Hangul character is a word of its own, since those scripts do
///   not separate words with spaces.
/// - ASCII text takes a fast path that never builds an intermediate `String`.
///
/// The words are kept as Unicode scalar values in one array, so that hashing them allocates
/// nothing per word.
public struct NormalizedText: Sendable {
    /// The text as it was given.
    public let source: String
    /// The scalar values of all words, concatenated.
    public private(set) var scalars: [UInt32] = []
    /// Each word's range in ``scalars``.
    public private(set) var words: [Range<Int>] = []

    public init(_ text: String) {
        self.init(text, folded: nil)
    }

    /// - Parameter folded: `text` already folded (``fold(_:)``), when the caller has it: the
    ///   fold is the costly part of normalising text that is not ASCII, and the cache's exact
    ///   key needs it too.
    public init(_ text: String, folded: String?) {
        source = text
        scalars.reserveCapacity(text.utf8.count)
        words.reserveCapacity(text.utf8.count / 4 + 1)
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            appendASCII(text)
        } else {
            appendUnicode(folded ?? Self.fold(text))
        }
    }

    /// Unicode NFKC and lower case: the form every comparison of text starts from.
    public static func fold(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.lowercased()
    }

    /// The number of words.
    public var count: Int { words.count }

    public var isEmpty: Bool { words.isEmpty }

    /// Word `i` as a string.
    public func word(_ i: Int) -> String {
        var s = String.UnicodeScalarView()
        for v in scalars[words[i]] { s.append(Unicode.Scalar(v)!) }
        return String(s)
    }

    /// All words as strings.
    public var wordStrings: [String] { (0..<count).map(word) }

    private mutating func appendASCII(_ text: String) {
        var start = -1
        var bytes = text.utf8.makeIterator()
        var pending: UInt8? = nil
        while let raw = pending ?? bytes.next() {
            pending = nil
            let c = (raw >= 0x41 && raw <= 0x5A) ? raw + 0x20 : raw
            let alnum = (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            if alnum {
                if start < 0 { start = scalars.count }
                scalars.append(UInt32(c))
            } else if c == 0x27 && start >= 0 {
                // An apostrophe inside a word is dropped; at a word's end it ends the word.
                if let next = bytes.next() {
                    let n = (next >= 0x41 && next <= 0x5A) ? next + 0x20 : next
                    if !((n >= 0x61 && n <= 0x7A) || (n >= 0x30 && n <= 0x39)) {
                        words.append(start..<scalars.count)
                        start = -1
                    }
                    pending = next
                }
            } else if start >= 0 {
                words.append(start..<scalars.count)
                start = -1
            }
        }
        if start >= 0 { words.append(start..<scalars.count) }
    }

    private mutating func appendUnicode(_ text: String) {
        var start = -1
        let all = Array(text.unicodeScalars)
        var i = 0
        while i < all.count {
            let s = all[i]
            if Self.isIdeographic(s) {
                if start >= 0 { words.append(start..<scalars.count) }
                words.append(scalars.count..<scalars.count + 1)
                scalars.append(s.value)
                start = -1
            } else if Self.isWordScalar(s) {
                if start < 0 { start = scalars.count }
                scalars.append(s.value)
            } else if (s == "'" || s == "\u{2019}") && start >= 0 && i + 1 < all.count
                        && Self.isWordScalar(all[i + 1]) && !Self.isIdeographic(all[i + 1]) {
                // dropped: "don't" is one word
            } else if start >= 0 {
                words.append(start..<scalars.count)
                start = -1
            }
            i += 1
        }
        if start >= 0 { words.append(start..<scalars.count) }
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        if p.isAlphabetic || p.numericType != nil { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber: return true
        default: return false
        }
    }

    static func isIdeographic(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF,  // Hiragana, Katakana
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,  // CJK ideographs
             0x20000...0x2FA1F,
             0xAC00...0xD7AF:  // Hangul syllables
            return true
        default:
            return false
        }
    }
}
