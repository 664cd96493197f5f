import Foundation

/// Scores text for prompt injection: phrase patterns of the known families (instruction
/// override, system-prompt extraction, persona jailbreaks, delimiter and fake-role injection)
/// matched on the text's words after undoing the usual disguises, plus signals of obfuscation
/// itself (zero-width and bidi controls, mixed-script homoglyphs, leetspeak, spaced letters,
/// base64 or hex payloads, which are decoded and scored too).
///
/// The score is a noisy-OR: each family counts with its strongest phrase, each signal with its
/// weight, and `1 - Π(1 - w)` is the result; one strong phrase alone is enough to pass the
/// default threshold, a weak phrase needs a second sign.
public final class InjectionScorer: Sendable {
    struct Phrase {
        let pattern: PhrasePattern
        let family: String
        let weight: Double
    }

    let phrases: [Phrase]
    /// Phrases by the exact words their first slot takes.
    let byFirstWord: [String: [Int]]
    /// Phrases whose first slot takes a prefix: the prefix's bytes and the phrase.
    let byPrefix: [([UInt8], Int)]
    let literals: [(text: [UInt8], family: String, weight: Double)]
    let signals: [String: Double]

    public init(_ patterns: InjectionPatterns) {
        let phrases = patterns.phrases.compactMap { p in PhrasePattern(p.pattern).map { Phrase(pattern: $0, family: p.family, weight: p.weight) } }
        var index: [String: [Int]] = [:]
        var prefixes: [([UInt8], Int)] = []
        for (i, p) in phrases.enumerated() {
            let first = p.pattern.firstWords
            for w in first.exact { index[w, default: []].append(i) }
            for prefix in first.prefixes { prefixes.append((Array(prefix.utf8), i)) }
        }
        self.phrases = phrases
        byFirstWord = index
        byPrefix = prefixes
        literals = patterns.literals.map { (Array($0.text.lowercased().utf8), $0.family, $0.weight) }
        signals = patterns.signals
    }

    public struct Verdict: Sendable, Equatable {
        public var score: Double
        /// The families matched and the signals seen, sorted: what the log line names.
        public var reasons: [String]
    }

    public func score(_ text: String) -> Verdict {
        var families: [String: Double] = [:]
        var seen = Set<String>()
        scan(text, into: &families, signals: &seen, depth: 0)
        var keep = 1.0
        for w in families.values { keep *= 1 - w }
        for s in seen { keep *= 1 - (signals[s] ?? 0) }
        return Verdict(score: 1 - keep, reasons: (Array(families.keys) + seen).sorted())
    }

    private func scan(_ text: String, into families: inout [String: Double], signals seen: inout Set<String>, depth: Int) {
        let normal = InjectionText(text)
        seen.formUnion(normal.signals)
        let plain = matchedFamilies(normal.words)
        merge(plain, into: &families)
        if normal.leetWords != normal.words {
            let leet = matchedFamilies(normal.leetWords)
            if leet.keys.contains(where: { plain[$0] == nil }) { seen.insert("leetspeak") }
            merge(leet, into: &families)
        }
        if let collapsed = normal.collapsedWords {
            let spaced = matchedFamilies(collapsed)
            if spaced.keys.contains(where: { families[$0] == nil }) { seen.insert("spaced_letters") }
            merge(spaced, into: &families)
        }
        if !literals.isEmpty {
            var lowered: [UInt8] = [0x0A]
            lowered.append(contentsOf: normal.text.utf8)
            for literal in literals where Self.contains(lowered, literal.text) {
                families[literal.family] = max(families[literal.family] ?? 0, literal.weight)
            }
        }
        guard depth == 0 else { return }
        for (kind, decoded) in Self.payloads(text) {
            seen.insert(kind)
            scan(decoded, into: &families, signals: &seen, depth: 1)
        }
    }

    private func merge(_ found: [String: Double], into families: inout [String: Double]) {
        for (f, w) in found { families[f] = max(families[f] ?? 0, w) }
    }

    /// The strongest weight of each family whose phrases match somewhere in `words`.
    func matchedFamilies(_ words: [Substring]) -> [String: Double] {
        var found: [String: Double] = [:]
        for (i, word) in words.enumerated() {
            if let candidates = byFirstWord[String(word)] {
                for k in candidates where phrases[k].pattern.matches(words, at: i) {
                    found[phrases[k].family] = max(found[phrases[k].family] ?? 0, phrases[k].weight)
                }
            }
            for (prefix, k) in byPrefix where Self.starts(word, with: prefix) && phrases[k].pattern.matches(words, at: i) {
                found[phrases[k].family] = max(found[phrases[k].family] ?? 0, phrases[k].weight)
            }
        }
        return found
    }

    static func starts(_ word: Substring, with prefix: [UInt8]) -> Bool {
        var i = 0
        for b in word.utf8 {
            if i == prefix.count { return true }
            if b != prefix[i] { return false }
            i += 1
        }
        return i == prefix.count
    }

    /// Base64 and hex runs of 16 characters or more that decode to readable text.
    static func payloads(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        var run: [UInt8] = []
        func flush() {
            defer { run.removeAll(keepingCapacity: true) }
            guard run.count >= 16 else { return }
            if run.count % 2 == 0, run.allSatisfy(ASCII.isHex) {
                var bytes: [UInt8] = []
                var k = 0
                while k + 1 < run.count {
                    bytes.append(UInt8(hexDigit(run[k]) << 4 | hexDigit(run[k + 1])))
                    k += 2
                }
                if readable(bytes) { out.append(("hex", String(decoding: bytes, as: UTF8.self))) }
                return
            }
            var padded = run
            while padded.count % 4 != 0 { padded.append(0x3D) }
            if let data = Data(base64Encoded: Data(padded)), readable(Array(data)) {
                out.append(("base64", String(decoding: data, as: UTF8.self)))
            }
        }
        for b in text.utf8 {
            if ASCII.isAlnum(b) || b == 0x2B || b == 0x2F || b == 0x3D || b == 0x2D || b == 0x5F {
                run.append(b)
            } else {
                flush()
            }
        }
        flush()
        return out
    }

    /// Whether `needle` occurs in `haystack` (short needles, short texts: a first-byte scan).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    static func hexDigit(_ b: UInt8) -> UInt8 { ASCII.isDigit(b) ? b - 0x30 : (b | 0x20) - 0x61 + 10 }

    /// Mostly printable ASCII with some letters and spaces: text, not a key or a hash.
    static func readable(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8 else { return false }
        let printable = bytes.filter { $0 == 0x0A || ($0 >= 0x20 && $0 < 0x7F) }.count
        let spaces = bytes.filter { $0 == 0x20 }.count
        return Double(printable) >= 0.95 * Double(bytes.count) && spaces >= 1
    }
}
