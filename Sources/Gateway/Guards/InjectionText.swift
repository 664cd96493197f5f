/// Text as the injection guard reads it: lower case, with zero-width and bidi controls dropped,
/// homoglyphs and full-width letters folded to ASCII, split into words; the same words with
/// leetspeak undone, and with runs of single letters (`i g n o r e`) joined.
struct InjectionText {
    var text: String
    var words: [Substring]
    var leetWords: [Substring]
    /// Present when the text has a run of four or more single letters.
    var collapsedWords: [Substring]?
    /// Obfuscation seen: `zero_width`, `bidi`, `homoglyph`.
    var signals: Set<String> = []

    init(_ raw: String) {
        if raw.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII, the usual case: lower case on bytes; no disguise lives here but leetspeak.
            text = String(decoding: raw.utf8.map { ASCII.isUpper($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        } else {
            text = Self.fold(raw, signals: &signals)
        }
        words = Self.split(text)
        var leetText = text
        if words.contains(where: Self.hasLeet) {
            leetText = String(String.UnicodeScalarView(text.unicodeScalars.map { s in
                s.value < 0x80 ? Unicode.Scalar(Self.unleet(UInt8(s.value))) : s
            }))
        }
        leetWords = leetText == text ? words : Self.split(leetText)
        collapsedWords = Self.collapsed(leetText).map(Self.split)
    }

    /// Text that is not all ASCII, lower-cased with controls dropped and look-alikes folded;
    /// what was dropped or folded is noted in `signals`.
    static func fold(_ raw: String, signals: inout Set<String>) -> String {
        var out = String.UnicodeScalarView()
        var wordHasASCII = false
        var wordHasGlyph = false
        var previousASCIILetter = false
        var pendingZeroWidth = false
        for s in raw.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                let b = UInt8(v)
                let letter = ASCII.isAlpha(b)
                if pendingZeroWidth && letter && previousASCIILetter { signals.insert("zero_width") }
                pendingZeroWidth = false
                if letter {
                    wordHasASCII = true
                    if wordHasGlyph { signals.insert("homoglyph") }
                } else if !ASCII.isDigit(b) {
                    (wordHasASCII, wordHasGlyph) = (false, false)
                }
                previousASCIILetter = letter
                out.append(Unicode.Scalar(ASCII.isUpper(b) ? b + 0x20 : b))
                continue
            }
            switch v {
            case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD:
                pendingZeroWidth = true
                continue
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F:
                signals.insert("bidi")
                continue
            default:
                break
            }
            if let folded = Self.fold(v) {
                wordHasGlyph = true
                if wordHasASCII { signals.insert("homoglyph") }
                out.append(Unicode.Scalar(folded))
                previousASCIILetter = true
                continue
            }
            previousASCIILetter = false
            if v == 0x2019 || v == 0x2018 {
                out.append("'")
                continue
            }
            for l in String(s).lowercased().unicodeScalars { out.append(l) }
        }
        return String(out)
    }

    /// Words: runs of letters, digits, apostrophes, and `@`/`$` (which leetspeak uses as letters).
    static func split(_ text: String) -> [Substring] {
        // On bytes: every byte of a non-ASCII character counts as a letter (the text is lower
        // case and folded already, and the patterns are ASCII words).
        let utf8 = text.utf8
        var words: [Substring] = []
        var start: String.Index?
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let b = utf8[index]
            let inWord = b >= 0x80 || ASCII.isAlnum(b) || b == 0x27 || b == 0x40 || b == 0x24
            if inWord {
                if start == nil { start = index }
            } else if let s = start {
                words.append(trimmed(text[s..<index]))
                start = nil
            }
            index = utf8.index(after: index)
        }
        if let s = start { words.append(trimmed(text[s..<utf8.endIndex])) }
        return words.filter { !$0.isEmpty }
    }

    /// A word without apostrophes at its ends (quotes, not contractions).
    static func trimmed(_ word: Substring) -> Substring {
        guard word.utf8.first == 0x27 || word.utf8.last == 0x27 else { return word }
        guard let first = word.firstIndex(where: { $0 != "'" }), let last = word.lastIndex(where: { $0 != "'" }) else { return "" }
        return word[first...last]
    }

    /// `text` with runs of four or more single characters separated by single spaces joined
    /// (`i g n o r e  a l l` → `ignore all`: two spaces part the words); `nil` when it has none.
    static func collapsed(_ text: String) -> String? {
        // Most texts have no run of single characters: find one on bytes before splitting.
        var singles = 0
        var longest = 0
        var length = 0
        for b in text.utf8 {
            if b == 0x20 {
                if length == 1 { singles += 1 } else if length > 0 { singles = 0 }
                longest = max(longest, singles)
                length = 0
            } else {
                length += 1
            }
        }
        if length == 1 { longest = max(longest, singles + 1) }
        guard longest >= 4 else { return nil }
        let tokens = text.split(separator: " ", omittingEmptySubsequences: false)
        var out: [Substring] = []
        var run: [Substring] = []
        var joined = false
        func flush() {
            if run.count >= 4 {
                out.append(Substring(run.joined()))
                joined = true
            } else {
                out += run
            }
            run.removeAll()
        }
        for token in tokens {
            if token.count == 1 {
                run.append(token)
            } else {
                flush()
                if !token.isEmpty { out.append(token) }
            }
        }
        flush()
        return joined ? out.joined(separator: " ") : nil
    }

    static func hasLeet(_ word: Substring) -> Bool {
        var letters = false
        var leet = false
        for b in word.utf8 {
            if ASCII.isAlpha(b) { letters = true } else if unleet(b) != b { leet = true }
        }
        return letters && leet
    }

    static func unleet(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30: 0x6F  // 0 → o
        case 0x31: 0x69  // 1 → i
        case 0x33: 0x65  // 3 → e
        case 0x34, 0x40: 0x61  // 4, @ → a
        case 0x35, 0x24: 0x73  // 5, $ → s
        case 0x37: 0x74  // 7 → t
        default: b
        }
    }

    /// The ASCII letter a Cyrillic or Greek look-alike or a full-width letter stands for.
    static func fold(_ v: UInt32) -> UInt8? {
        if (0xFF21...0xFF3A).contains(v) { return UInt8(v - 0xFF21) + 0x61 }
        if (0xFF41...0xFF5A).contains(v) { return UInt8(v - 0xFF41) + 0x61 }
        switch v {
        case 0x0430, 0x0410, 0x03B1, 0x0391: return 0x61  // a
        case 0x0435, 0x0415, 0x03B5, 0x0395: return 0x65  // e
        case 0x043E, 0x041E, 0x03BF, 0x039F: return 0x6F  // o
        case 0x0440, 0x0420, 0x03C1, 0x03A1: return 0x70  // p
        case 0x0441, 0x0421: return 0x63  // c
        case 0x0443, 0x0423: return 0x79  // y
        case 0x0445, 0x0425, 0x03C7: return 0x78  // x
        case 0x0456, 0x0406, 0x03B9, 0x0399: return 0x69  // i
        case 0x0458, 0x0408: return 0x6A  // j
        case 0x0455, 0x0405: return 0x73  // s
        case 0x04BB: return 0x68  // h
        case 0x0501: return 0x64  // d
        case 0x0261: return 0x67  // g
        case 0x03BD: return 0x76  // v
        case 0x03BA, 0x039A: return 0x6B  // k
        case 0x03C5: return 0x75  // u
        case 0x0422, 0x03A4: return 0x74  // t
        case 0x041C, 0x039C: return 0x6D  // m
        case 0x041D, 0x0397: return 0x68  // h
        case 0x0392, 0x0412: return 0x62  // b
        default: return nil
        }
    }
}
