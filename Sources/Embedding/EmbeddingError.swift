/// Why texts could not be embedded. Each message names the source and says what to do.
public enum EmbeddingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The embedder's configuration is unusable; the string names the field and the problem.
    case invalidConfiguration(String)
    /// The environment variable that should hold the API key is not set.
    case missingAPIKey(variable: String)
    /// The embeddings endpoint could not be reached (refused, DNS, TLS, reset).
    case unavailable(url: String, reason: String)
    /// The endpoint did not answer in time, after every retry.
    case timeout(url: String, seconds: Double)
    /// The endpoint answered with an HTTP error status.
    case httpStatus(url: String, status: Int, message: String)
    /// The answer could not be used: not JSON, wrong shape, wrong count, NaN values.
    case invalidResponse(source: String, reason: String)
    /// The vectors have another length than the configured or first-seen dimension.
    case dimensionMismatch(source: String, expected: Int, got: Int)
    /// A model file is missing, truncated or not what the configuration describes.
    case modelFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "invalid embedder configuration: \(message)"
        case .missingAPIKey(let variable):
            return "the embeddings API key variable \(variable) is not set; export it or remove api_key_env"
        case .unavailable(let url, let reason):
            return "embeddings endpoint \(url) is unreachable: \(reason)"
        case .timeout(let url, let seconds):
            return "embeddings endpoint \(url) did not answer within \(seconds) s; raise timeout or check the server"
        case .httpStatus(let url, let status, let message):
            return "embeddings endpoint \(url) answered HTTP \(status): \(message)"
        case .invalidResponse(let source, let reason):
            return "embeddings from \(source) are unusable: \(reason)"
        case .dimensionMismatch(let source, let expected, let got):
            return "embeddings from \(source) have \(got) dimensions, expected \(expected); "
                + "set the right dimension or rebuild the cache for this model"
        case .modelFile(let path, let reason):
            return "model file \(path): \(reason)"
        }
    }
}
