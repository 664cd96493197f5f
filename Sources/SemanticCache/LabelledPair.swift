import DejaSupport
public import Embedding
import Foundation

/// Two prompts and whether one's answer may serve the other: a line of `fixtures/pairs.jsonl`.
public struct LabelledPair: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var same: Bool
    /// An optional label for the kind of pair (paraphrase, numbers, negation, entity, order, ...).
    public var kind: String?
    /// `train` or `test` in a file split for training a verifier (`fixtures/verifier-pairs.jsonl`).
    public var split: String?

    public init(a: String, b: String, same: Bool, kind: String? = nil, split: String? = nil) {
        self.a = a
        self.b = b
        self.same = same
        self.kind = kind
        self.split = split
    }

    /// Reads a JSONL file of pairs: `{"a", "b", "same": true|false}` per line, optionally with
    /// `kind`. Lines with `"same": null` (written by `cache.pairs_log`, not labelled yet) are
    /// counted and left out; with `model`, so are lines whose `model` field names another model.
    ///
    /// - Throws: ``CacheError/labelledPairs(_:)`` naming the file and line that is wrong, or
    ///   saying that no line is labelled yet.
    public static func read(jsonl path: String, model: String? = nil) throws(CacheError) -> LabelledPairsFile {
        let text: String
        do { text = try TextFile.read(path) } catch { throw .labelledPairs(error.description) }
        var file = LabelledPairsFile()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parsed: PairLine
            do {
                parsed = try JSONDecoder().decode(PairLine.self, from: Data(trimmed.utf8))
            } catch {
                throw .labelledPairs("\(path):\(number + 1): expected {\"a\": ..., \"b\": ..., \"same\": true|false}")
            }
            if let model, let lineModel = parsed.model, lineModel != model {
                file.otherModels += 1
            } else if let same = parsed.same {
                file.pairs.append(LabelledPair(a: parsed.a, b: parsed.b, same: same, kind: parsed.kind, split: parsed.split))
            } else {
                file.unlabelled += 1
            }
        }
        guard !file.pairs.isEmpty else {
            if file.unlabelled > 0 {
                throw .labelledPairs(
                    "\(path) holds no labelled pairs yet: set \"same\" to true or false on some of its \(file.unlabelled) lines")
            }
            throw .labelledPairs("\(path) holds no pairs" + (model.map { " for model \($0)" } ?? ""))
        }
        return file
    }

    /// ``read(jsonl:model:)``'s pairs.
    public static func load(jsonl path: String) throws(CacheError) -> [LabelledPair] {
        try read(jsonl: path).pairs
    }
}

/// The pairs of a JSONL file, and the lines left out.
public struct LabelledPairsFile: Sendable {
    public var pairs: [LabelledPair] = []
    /// Lines with `"same": null`, waiting for a label.
    public var unlabelled = 0
    /// Lines of other models than the one asked for.
    public var otherModels = 0
}

/// A line as written: `same` may be null (not labelled yet), and the pairs log adds fields,
/// of which `model` is read.
struct PairLine: Decodable {
    var a: String
    var b: String
    var same: Bool?
    var kind: String?
    var model: String?
    var split: String?

    enum CodingKeys: String, CodingKey { case a, b, same, kind, model, split }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        a = try c.decode(String.self, forKey: .a)
        b = try c.decode(String.self, forKey: .b)
        // Present, true, false or null; a missing label is a mistake in the file, not a pair to label.
        guard c.contains(.same) else {
            throw DecodingError.keyNotFound(CodingKeys.same, .init(codingPath: [], debugDescription: "no same"))
        }
        same = try c.decodeIfPresent(Bool.self, forKey: .same)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        split = try c.decodeIfPresent(String.self, forKey: .split)
    }
}
