/// Turns texts into vectors whose cosine similarity reflects how alike the texts are.
///
/// ```swift
/// let embedder = HashingEmbedder()
/// let vectors = try await embedder.embed(["How do I reset my password?"])
/// ```
///
/// Every vector is L2-normalised and has ``dimension`` floats. The ``identity`` names the model,
/// its version and every parameter that changes its vectors: a cache stores it and refuses to
/// be searched with an embedder of another identity, because their vectors are not comparable.
public protocol Embedder: Sendable {
    /// The length of every vector.
    var dimension: Int { get }
    /// Name, version and parameters, e.g. `hashing-v1(dim=384,...)`.
    var identity: String { get }
    /// One L2-normalised vector per text, in order.
    ///
    /// - Throws: ``EmbeddingError``; a gateway treats any of them as "embedder unavailable" and
    ///   answers from the upstream LLM without the cache.
    func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]]

    /// The vector of one text the caller has already normalised, so that an embedder that works
    /// on normalised words (``HashingEmbedder``) does not normalise it again. The default embeds
    /// ``NormalizedText/source``.
    func embed(_ text: NormalizedText) async throws(EmbeddingError) -> [Float]
}

extension Embedder {
    public func embed(_ text: NormalizedText) async throws(EmbeddingError) -> [Float] {
        try await embed(text.source)
    }

    /// The vector of one text.
    public func embed(_ text: String) async throws(EmbeddingError) -> [Float] {
        let vectors = try await embed([text])
        guard let first = vectors.first else {
            throw .invalidResponse(source: identity, reason: "no vector returned for one text")
        }
        return first
    }
}
