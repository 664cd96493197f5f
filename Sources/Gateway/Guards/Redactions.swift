import Crypto
import DejaSupport

/// What the guards found in one request's prompt: the values redacted (kept in memory for the
/// request only, to put back into the answer when redaction is reversible, and to keep the
/// namespace apart), and counts by detector and action for the log line.
struct Redactions: Sendable {
    /// Whether placeholders are numbered (`[EMAIL_1]`) and put back into the answer.
    var reversible: Bool
    /// Numbered placeholder (`EMAIL_1`) by value, and value by placeholder.
    private(set) var placeholders: [String: String] = [:]
    private(set) var values: [String: String] = [:]
    private var next: [String: Int] = [:]
    /// Every value redacted, by its placeholder's word, for the namespace digest.
    private(set) var redacted: [String] = []
    /// `detector:action` → count, for `x-deja-guard`-style marks in the request log.
    private(set) var found: [String: Int] = [:]

    init(reversible: Bool) {
        self.reversible = reversible
    }

    var isEmpty: Bool { found.isEmpty }

    mutating func count(_ detector: String, _ action: GuardAction) {
        found["\(detector):\(action.rawValue)", default: 0] += 1
    }

    /// The placeholder for `value`, with its number when reversible; the same value gets the same one.
    mutating func placeholder(for value: String, word: String) -> String {
        redacted.append(word + "\u{0}" + value)
        guard reversible else { return "[\(word)]" }
        let key = word + "\u{0}" + value
        if let known = placeholders[key] { return "[\(known)]" }
        let n = next[word, default: 0] + 1
        next[word] = n
        let name = "\(word)_\(n)"
        placeholders[key] = name
        values[name] = value
        return "[\(name)]"
    }

    /// A digest of the values redacted, for the namespace: prompts that differ only in a
    /// redacted value do not share answers unless `share_redacted` is on.
    var digest: String? {
        guard !redacted.isEmpty else { return nil }
        var hasher = SHA256()
        for v in Set(redacted).sorted() { hasher.update(data: Array(v.utf8) + [0x0A]) }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: hasher.finalize().flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// The counts by detector and action.
    var counts: [(key: (detector: String, action: String), count: Int)] {
        found.map { entry in
            let parts = entry.key.split(separator: ":", maxSplits: 1)
            return ((String(parts[0]), String(parts[1])), entry.value)
        }
    }

    /// The mark for the request log: `email:redact=2,card:block=1`.
    var summary: String {
        found.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// `text` with the numbered placeholders of this request put back; `nil` if it has none.
    func restore(_ text: String) -> String? {
        guard !values.isEmpty, text.utf8.contains(0x5B) else { return nil }
        var out = ""
        var changed = false
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.prefix(40).firstIndex(of: "]"), let value = values[String(after[..<close])] {
                out += value
                rest = after[after.index(after: close)...]
                changed = true
            } else {
                out += "["
                rest = after
            }
        }
        out += rest
        return changed ? out : nil
    }
}
