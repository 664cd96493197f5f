public import Embedding
import Foundation

/// The all-MiniLM-L6-v2 files that `make model` downloads, shared by the tests that need them.
public enum MiniLMModel {
    /// The model folder, relative to the package root where `swift test` runs.
    public static let folder = "models/all-MiniLM-L6-v2"

    /// Why the model cannot be used, or `nil` when every file is there. Tests that need the
    /// model fail with this message rather than skip: `make test` fetches it first.
    public static var missing: String? {
        for file in ["model.safetensors", "vocab.txt", "config.json", "tokenizer_config.json"]
        where !FileManager.default.fileExists(atPath: "\(folder)/\(file)") {
            return "\(folder)/\(file) is missing: run `make model` (make test does it for you)"
        }
        return nil
    }

    /// One embedder for the whole test process: loading maps 90 MB and hashes it.
    public static let shared: Result<MiniLMEmbedder, EmbeddingError> = Result { () throws(EmbeddingError) -> MiniLMEmbedder in
        if let missing { throw .modelFile(path: folder, reason: missing) }
        return try MiniLMEmbedder.load(MiniLMConfiguration(path: folder, maxBatch: 32, batchWaitMilliseconds: 0))
    }

    public static func embedder() throws -> MiniLMEmbedder {
        try shared.get()
    }

    /// A line of `fixtures/minilm-reference.jsonl`: a text with the token ids and the embedding
    /// of an independent numpy implementation of the same model.
    public struct Reference: Decodable, Sendable {
        public var text: String
        public var token_ids: [Int32]?
        public var embedding: [Float]
    }

    public static func references() throws -> [Reference] {
        let text = try String(contentsOfFile: "fixtures/minilm-reference.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Reference.self, from: Data($0.utf8)) }
    }
}
