import Foundation

/// Changes one option in a YAML configuration file's text, keeping everything else, comments
/// included (re-encoding the YAML would drop them): `deja tune --write` uses it.
public enum ConfigFileEditor {
    /// The text with `section.key` set to `value`. The key is replaced where it stands, added
    /// at the top of its section, or the section is appended.
    public static func set(section: String, key: String, value: String, in text: String) -> String {
        set(path: [section, key], value: value, in: text)!
    }

    /// The text with the option at `path` (e.g. `["models", "gpt-4o-mini", "threshold"]`) set to
    /// `value`: replaced where it stands (its comment kept) or added at the top of its parent. A
    /// missing top-level section is appended; `nil` when another parent is missing or written
    /// in flow style (`{...}` on one line), which only a person should rewrite.
    public static func set(path: [String], value: String, in text: String) -> String? {
        precondition(path.count >= 2, "a path names a section and a key")
        var lines = text.components(separatedBy: "\n")
        if set(path[...], value, in: &lines, from: 0, to: lines.count, indent: "") {
            return lines.joined(separator: "\n")
        }
        guard path.count == 2, !lines.contains(where: { key(of: $0, indent: "") == path[0] }) else { return nil }
        var out = text
        if !out.isEmpty && !out.hasSuffix("\n") { out += "\n" }
        return out + "\(path[0]):\n  \(path[1]): \(value)\n"
    }

    /// Sets `path` among `lines[from..<to]`, whose keys stand at `indent`.
    private static func set(
        _ path: ArraySlice<String>, _ value: String, in lines: inout [String], from: Int, to: Int, indent: String
    ) -> Bool {
        let name = path.first!
        let found = (from..<to).first { key(of: lines[$0], indent: indent) == name }
        if path.count == 1 {
            guard let i = found else {
                lines.insert("\(indent)\(name): \(value)", at: from)
                return true
            }
            let line = lines[i]
            let colon = colonIndex(in: line, after: indent)!
            let rest = line[line.index(after: colon)...]
            let comment = rest.firstIndex(of: "#").map { "  " + rest[$0...] } ?? ""
            lines[i] = "\(line[..<colon]): \(value)\(comment)"
            return true
        }
        guard let i = found else { return false }
        let line = lines[i]
        let rest = line[line.index(after: colonIndex(in: line, after: indent)!)...]
        guard rest.prefix(while: { $0 != "#" }).allSatisfy(\.isWhitespace) else { return false }  // flow style
        var end = to
        var childIndent: String?
        for j in (i + 1)..<to {
            let trimmed = lines[j].trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let leading = String(lines[j].prefix { $0 == " " || $0 == "\t" })
            if leading.count <= indent.count {
                end = j
                break
            }
            if childIndent == nil { childIndent = leading }
        }
        return set(path.dropFirst(), value, in: &lines, from: i + 1, to: end, indent: childIndent ?? indent + "  ")
    }

    /// The key a line sets at exactly `indent` (quotes removed), or `nil` for a comment, a list
    /// item, a deeper or shallower line.
    private static func key(of line: String, indent: String) -> String? {
        guard line.hasPrefix(indent), let colon = colonIndex(in: line, after: indent) else { return nil }
        let raw = line[line.index(line.startIndex, offsetBy: indent.count)..<colon].trimmingCharacters(in: .whitespaces)
        if raw.count >= 2, let q = raw.first, q == "\"" || q == "'", raw.last == q { return String(raw.dropFirst().dropLast()) }
        return raw
    }

    /// Where the key of a `key: value` line at `indent` ends: the first colon outside quotes
    /// that is followed by a space or the end of the line.
    private static func colonIndex(in line: String, after indent: String) -> String.Index? {
        let start = line.index(line.startIndex, offsetBy: indent.count)
        guard start < line.endIndex, let first = line[start...].first, !first.isWhitespace, first != "#", first != "-" else {
            return nil
        }
        var quote: Character?
        var i = start
        while i < line.endIndex {
            let c = line[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == ":" {
                let next = line.index(after: i)
                if next == line.endIndex || line[next] == " " || line[next] == "\t" { return i }
            } else if c == "#" {
                return nil
            }
            i = line.index(after: i)
        }
        return nil
    }
}
