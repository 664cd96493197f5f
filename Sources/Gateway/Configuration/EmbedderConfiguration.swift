public import Embedding
import Foundation
public import SemanticCache

/// Which embedder turns prompts into vectors.
public struct EmbedderConfiguration: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case hashing, remote, minilm
    }

    public var kind: Kind
    /// The model name under which `/v1/embeddings` serves Deja's own embedder.
    public var name: String
    public var hashing: HashingEmbedderConfiguration
    public var remote: RemoteEmbedderConfiguration?
    public var minilm: MiniLMConfiguration
    /// How many recently embedded texts keep their vectors, so that the same text is not
    /// embedded twice in a row (``MemoizedEmbedder``); 0 turns that off.
    public var memoEntries: Int

    public init(
        kind: Kind = .hashing, name: String = "deja-embed", hashing: HashingEmbedderConfiguration = .init(),
        remote: RemoteEmbedderConfiguration? = nil, minilm: MiniLMConfiguration = .init(), memoEntries: Int = 4096
    ) {
        self.kind = kind
        self.name = name
        self.hashing = hashing
        self.remote = remote
        self.minilm = minilm
        self.memoEntries = memoEntries
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, hashing, remote, minilm
        case memoEntries = "memo_entries"
    }

    public init(from decoder: any Decoder) throws {
        let d = EmbedderConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? d.name
        hashing = try c.decodeIfPresent(HashingEmbedderConfiguration.self, forKey: .hashing) ?? d.hashing
        remote = try c.decodeIfPresent(RemoteEmbedderConfiguration.self, forKey: .remote)
        minilm = try c.decodeIfPresent(MiniLMConfiguration.self, forKey: .minilm) ?? d.minilm
        memoEntries = try c.decodeIfPresent(Int.self, forKey: .memoEntries) ?? d.memoEntries
    }

    var problems: [String] {
        var out = hashing.problems.map { "embedder.hashing.\($0)" }
        if name.isEmpty { out.append("embedder.name: must not be empty") }
        if !(0...1_000_000).contains(memoEntries) {
            out.append("embedder.memo_entries: must be between 0 and 1000000, got \(memoEntries)")
        }
        switch kind {
        case .hashing: break
        case .remote:
            if let remote {
                out += remote.problems.map { "embedder.remote.\($0)" }
            } else {
                out.append("embedder.remote: required when embedder.kind is remote")
            }
        case .minilm:
            out += minilm.problems.map { "embedder.minilm.\($0)" }
        }
        return out
    }
}
