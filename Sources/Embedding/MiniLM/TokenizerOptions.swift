import CBLAS
import Crypto
import Foundation

/// The fields of `tokenizer_config.json` that change token ids.
struct TokenizerOptions {
    var lowercase = true
    var stripAccents: Bool?

    /// A missing file means BERT's defaults (lower-case, strip accents).
    init(contentsOf path: String) throws(EmbeddingError) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .modelFile(path: path, reason: "is not a JSON object")
        }
        lowercase = object["do_lower_case"] as? Bool ?? true
        stripAccents = object["strip_accents"] as? Bool
    }
}
