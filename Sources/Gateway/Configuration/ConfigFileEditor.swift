import Foundation

/// Changes one option in a YAML configuration file's text, keeping everything else, comments
/// included (re-encoding the YAML would drop them): `deja tune --write` uses it.
public enum ConfigFileEditor {
    /// The text with `section.key` set to `value`. The key is replaced where it stands, added
    /// at the top of its section, or the section is appended.
    public static func set(section: String, key: String, value: String, in text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("\(section):") }) else {
            var out = text
            if !out.isEmpty && !out.hasSuffix("\n") { out += "\n" }
            return out + "\(section):\n  \(key): \(value)\n"
        }
        var end = lines.count
        for i in (start + 1)..<lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") && !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                end = i
                break
            }
        }
        // The section's own indentation is that of its first indented, non-comment line.
        var indent = "  "
        for i in (start + 1)..<end {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") {
                indent = String(line.prefix { $0 == " " || $0 == "\t" })
                break
            }
        }
        for i in (start + 1)..<end where lines[i].hasPrefix(indent + key + ":") {
            let rest = lines[i].dropFirst(indent.count + key.count + 1)
            let comment = rest.firstIndex(of: "#").map { "  " + rest[$0...] } ?? ""
            lines[i] = "\(indent)\(key): \(value)\(comment)"
            return lines.joined(separator: "\n")
        }
        lines.insert("\(indent)\(key): \(value)", at: start + 1)
        return lines.joined(separator: "\n")
    }
}
