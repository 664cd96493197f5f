import DejaSupport
import Foundation
import SemanticCache

extension DejaConfiguration {
    /// The configuration as YAML, keys sorted within each section, numbers as written by hand
    /// (`0.8`, not `8.00000011920929e-1`): what `deja config check` prints.
    public var yaml: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(self), let value = try? JSONValue.parse(data) else { return "" }
        var out = ""
        Self.emit(value, indent: 0, into: &out)
        return out
    }

    private static func scalar(_ value: JSONValue) -> String? {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            // Floats decoded from the file carry binary noise: print the shortest form that reads back.
            let f = Float(d)
            return Double(f) == d ? "\(f)" : "\(d)"
        case .string(let s):
            let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "/._-".contains($0) }
                && !["true", "false", "null", "yes", "no", "on", "off"].contains(s.lowercased()) && Double(s) == nil
            return plain ? s : JSONValue.quoted(s)
        case .array(let a) where a.isEmpty: return "[]"
        case .object(let o) where o.isEmpty: return "{}"
        default: return nil
        }
    }

    private static func emit(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case .object(let o):
            for key in o.keys.sorted() {
                let child = o[key]!
                let name = scalar(.string(key)) ?? key
                if let s = scalar(child) {
                    out += "\(pad)\(name): \(s)\n"
                } else {
                    out += "\(pad)\(name):\n"
                    emit(child, indent: indent + 1, into: &out)
                }
            }
        case .array(let a):
            for item in a {
                if let s = scalar(item) {
                    out += "\(pad)- \(s)\n"
                } else {
                    var nested = ""
                    emit(item, indent: indent + 1, into: &nested)
                    out += pad + "- " + nested.dropFirst(pad.count + 2)
                }
            }
        default:
            out += pad + (scalar(value) ?? "") + "\n"
        }
    }
}
