public import AsyncHTTPClient
public import Embedding

extension EmbedderConfiguration {
    /// The embedder this configuration describes.
    ///
    /// - Parameters:
    ///   - client: the HTTP client for a remote embedder.
    ///   - storedIdentity: the identity of the embedder that built the cache, from which a
    ///     remote embedder takes its dimension when its endpoint cannot be asked at start.
    /// - Throws: ``EmbeddingError`` (a missing model file, a missing key variable, an
    ///   unreachable endpoint when the dimension has to be learnt).
    public func makeEmbedder(client: HTTPClient, storedIdentity: String? = nil) async throws(EmbeddingError) -> any Embedder {
        switch kind {
        case .hashing:
            return try HashingEmbedder(configuration: hashing)
        case .remote:
            guard let remote else { throw .invalidConfiguration("embedder.remote is missing") }
            let known = storedIdentity.flatMap { RemoteEmbedder.dimension(inIdentity: $0, of: remote) }
            return try await RemoteEmbedder.connect(remote, client: client, knownDimension: known)
        case .minilm:
            return try MiniLMEmbedder.load(minilm)
        }
    }
}
