public import AsyncHTTPClient
public import Embedding

extension EmbedderConfiguration {
    /// The embedder this configuration describes.
    ///
    /// - Parameters:
    ///   - client: the HTTP client for a remote embedder.
    /// - Throws: ``EmbeddingError`` (a missing model file, a missing key variable, an
    ///   unreachable endpoint when the dimension has to be learnt).
    public func makeEmbedder(client: HTTPClient) async throws(EmbeddingError) -> any Embedder {
        switch kind {
        case .hashing:
            return try HashingEmbedder(configuration: hashing)
        case .remote:
            guard let remote else { throw .invalidConfiguration("embedder.remote is missing") }
            return try await RemoteEmbedder.connect(remote, client: client)
        case .minilm:
            return try MiniLMEmbedder.load(minilm)
        }
    }
}
