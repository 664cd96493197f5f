import Foundation

package extension DecodingError {
    /// The path of the value that failed and why, in words for a person editing the file:
    /// `cache.thresholds[0].threshold: expected a number (...)`, `vocab_size: required`.
    /// Shared by every JSON or YAML file Deja reads (model `config.json`, `deja.yaml`).
    var readableDescription: String { readableDescription(valueAt: { _ in nil }) }

    /// ``readableDescription``, with a wrong value shown as it was written (`expected a number,
    /// got 'abc'`) when `valueAt` finds it by its path, instead of the decoder's own wording.
    func readableDescription(valueAt: (String) -> String?) -> String {
        func path(_ context: DecodingError.Context, _ extra: (any CodingKey)? = nil) -> String {
            var keys = context.codingPath
            if let extra { keys.append(extra) }
            return keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .replacingOccurrences(of: ".[", with: "[").trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        func typeName(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type, is UInt64.Type: return "a whole number"
            case is Double.Type, is Float.Type: return "a number"
            case is Bool.Type: return "true or false"
            case is String.Type: return "a string"
            default: return "\(type)"
            }
        }
        switch self {
        case .typeMismatch(let type, let context):
            if let found = valueAt(path(context)) { return "\(path(context)): expected \(typeName(type)), got '\(found)'" }
            return "\(path(context)): expected \(typeName(type)) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(typeName(type)), found nothing"
        case .keyNotFound(let key, let context):
            return "\(path(context, key)): required"
        case .dataCorrupted(let context):
            // Corrupt at the top (not JSON at all) has no path to name.
            let at = path(context)
            return at.isEmpty ? context.debugDescription : "\(at): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
