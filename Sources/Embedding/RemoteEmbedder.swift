public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import NIOFoundationEssentialsCompat

/// Embeds through an OpenAI-compatible `/v1/embeddings` endpoint.
///
/// ```swift
/// let embedder = try await RemoteEmbedder.connect(
///     .init(baseURL: "http://127.0.0.1:11434/v1", model: "nomic-embed-text"))
/// let v = try await embedder.embed("How do I reset my password?")
/// ```
///
/// Texts go in batches of `batch_size`; 429s, 5xx answers, timeouts and failed connections are
/// retried with exponential backoff; every answer is checked (count, dimension, finite values)
/// and normalised. A failure is a typed ``EmbeddingError`` that a gateway turns into "answer
/// from the LLM without the cache".
public final class RemoteEmbedder: Embedder {
    public let configuration: RemoteEmbedderConfiguration
    public let dimension: Int
    public let identity: String
    /// When the endpoint could not be asked for the dimension at start and the cache's stored
    /// dimension was used instead: why it could not (lookups fail open until it answers).
    public let startFailure: EmbeddingError?
    private let client: HTTPClient
    private let apiKey: String?
    private let endpoint: String

    private init(
        configuration: RemoteEmbedderConfiguration, dimension: Int, client: HTTPClient, apiKey: String?,
        startFailure: EmbeddingError? = nil
    ) {
        self.configuration = configuration
        self.dimension = dimension
        self.client = client
        self.apiKey = apiKey
        self.startFailure = startFailure
        endpoint = Self.base(configuration) + "/embeddings"
        identity = Self.identity(configuration, dimension: dimension)
    }

    static func base(_ configuration: RemoteEmbedderConfiguration) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The identity of an embedder of `configuration` giving vectors of `dimension`.
    static func identity(_ configuration: RemoteEmbedderConfiguration, dimension: Int) -> String {
        "remote(\(base(configuration)),model=\(configuration.model),dim=\(dimension))"
    }

    /// The dimension in a stored cache's embedder `identity` when that cache was built by this
    /// configuration's endpoint and model; `nil` otherwise.
    public static func dimension(inIdentity identity: String, of configuration: RemoteEmbedderConfiguration) -> Int? {
        guard identity.hasSuffix(")"), let start = identity.range(of: ",dim=", options: .backwards),
              let dimension = Int(identity[start.upperBound...].dropLast()), dimension > 0,
              Self.identity(configuration, dimension: dimension) == identity
        else { return nil }
        return dimension
    }

    /// Checks the configuration, reads the API key from the environment and, when no dimension is
    /// configured, asks the endpoint once to learn it. When that fails and `knownDimension` (the
    /// stored cache's) is given, the embedder is made with it and ``startFailure`` says why, so
    /// that a gateway restarts while its embeddings service is down.
    ///
    /// - Throws: ``EmbeddingError``: a bad configuration, a missing key variable, or the probe's
    ///   failure with nothing to fall back on.
    public static func connect(
        _ configuration: RemoteEmbedderConfiguration,
        client: HTTPClient = .shared,
        environment: [String: String]? = nil,
        knownDimension: Int? = nil
    ) async throws(EmbeddingError) -> RemoteEmbedder {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let problems = configuration.problems
        guard problems.isEmpty else { throw .invalidConfiguration(problems.joined(separator: "; ")) }
        var apiKey: String?
        if let variable = configuration.apiKeyEnv {
            guard let value = environment[variable], !value.isEmpty else { throw .missingAPIKey(variable: variable) }
            apiKey = value
        }
        if let dimension = configuration.dimension {
            return RemoteEmbedder(configuration: configuration, dimension: dimension, client: client, apiKey: apiKey)
        }
        let probe = RemoteEmbedder(configuration: configuration, dimension: 0, client: client, apiKey: apiKey)
        let vectors: [[Float]]
        do {
            vectors = try await probe.request(["dimension probe"], expected: nil)
        } catch {
            if let knownDimension {
                return RemoteEmbedder(
                    configuration: configuration, dimension: knownDimension, client: client, apiKey: apiKey, startFailure: error)
            }
            throw .invalidConfiguration(
                "cannot learn the vectors' dimension at start: \(error); set embedder.remote.dimension, and Deja "
                    + "starts while the endpoint is down (answering from the providers until it is back)")
        }
        return RemoteEmbedder(configuration: configuration, dimension: vectors[0].count, client: client, apiKey: apiKey)
    }

    public func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(start + configuration.batchSize, texts.count)
            out += try await request(Array(texts[start..<end]), expected: dimension)
            start = end
        }
        return out
    }

    /// One batch, with retries.
    func request(_ texts: [String], expected: Int?) async throws(EmbeddingError) -> [[Float]] {
        var attempt = 0
        while true {
            do {
                return try await attemptOnce(texts, expected: expected)
            } catch {
                guard attempt < configuration.maxRetries, let delay = retryDelay(after: error, attempt: attempt) else {
                    throw error.error
                }
                attempt += 1
                try? await Task.sleep(nanoseconds: delay)
            }
        }
    }

    /// An error with the server's suggested wait, when it gave one.
    struct Failure: Error {
        var error: EmbeddingError
        var retryAfterSeconds: Double?
    }

    private func retryDelay(after failure: Failure, attempt: Int) -> UInt64? {
        switch failure.error {
        case .unavailable, .timeout:
            break
        case .httpStatus(_, let status, _) where status == 429 || status >= 500:
            break
        default:
            return nil
        }
        if let seconds = failure.retryAfterSeconds {
            return UInt64(min(max(seconds, 0), 10) * 1e9)
        }
        let base = Double(configuration.backoffMilliseconds) * pow(2, Double(attempt))
        let jitter = Double.random(in: 0.8...1.2)
        return UInt64(base * jitter * 1e6)
    }

    private func attemptOnce(_ texts: [String], expected: Int?) async throws(Failure) -> [[Float]] {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        if let apiKey { request.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        let body: Data
        do {
            body = try JSONEncoder().encode(EmbeddingsRequest(model: configuration.model, input: texts))
        } catch {
            throw Failure(error: .invalidConfiguration("cannot encode the request: \(error)"))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = configuration.timeout
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(seconds * 1000)))
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch let error as HTTPClientError
                    where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw Failure(error: .timeout(url: endpoint, seconds: seconds))
        } catch {
            throw Failure(error: .unavailable(url: endpoint, reason: String(describing: error)))
        }
        guard response.status == .ok else {
            let message = Self.errorMessage(bytes)
            throw Failure(
                error: .httpStatus(url: endpoint, status: Int(response.status.code), message: message),
                retryAfterSeconds: response.headers.first(name: "retry-after").flatMap(Double.init))
        }
        let decoded: EmbeddingsResponse
        do {
            decoded = try JSONDecoder().decode(EmbeddingsResponse.self, from: Data(buffer: bytes))
        } catch {
            throw Failure(error: .invalidResponse(source: endpoint, reason: "not an embeddings response: \(error)"))
        }
        guard decoded.data.count == texts.count else {
            throw Failure(error: .invalidResponse(
                source: endpoint, reason: "\(decoded.data.count) vectors for \(texts.count) texts"))
        }
        // Items may come in any order, each with its `index`; a set of indices that is not 0 to
        // n - 1 would pair some text with another's vector, so it is refused.
        let ordered: [EmbeddingsResponse.Item]
        if decoded.data.allSatisfy({ $0.index == nil }) {
            ordered = decoded.data
        } else {
            ordered = decoded.data.sorted { ($0.index ?? -1) < ($1.index ?? -1) }
            guard ordered.enumerated().allSatisfy({ $0.element.index == $0.offset }) else {
                throw Failure(error: .invalidResponse(
                    source: endpoint, reason: "the vectors' indices are not 0 to \(texts.count - 1), one each"))
            }
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(ordered.count)
        let want = expected ?? ordered.first?.embedding.count ?? 0
        for item in ordered {
            guard item.embedding.count == want, want > 0 else {
                throw Failure(error: .dimensionMismatch(source: endpoint, expected: want, got: item.embedding.count))
            }
            var norm: Float = 0
            for x in item.embedding {
                guard x.isFinite else {
                    throw Failure(error: .invalidResponse(source: endpoint, reason: "a vector holds NaN or infinity"))
                }
                norm += x * x
            }
            guard norm > 0 else { throw Failure(error: .invalidResponse(source: endpoint, reason: "a vector is all zeros")) }
            let scale = 1 / norm.squareRoot()
            vectors.append(item.embedding.map { $0 * scale })
        }
        return vectors
    }

    /// The `error.message` of an OpenAI-style error body, or the start of the body.
    static func errorMessage(_ bytes: ByteBuffer) -> String {
        let data = Data(buffer: bytes)
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: data), let message = body.error?.message {
            return message
        }
        return String(decoding: data.prefix(200), as: UTF8.self)
    }

    struct EmbeddingsRequest: Encodable {
        var model: String
        var input: [String]
        var encoding_format = "float"
    }

    struct EmbeddingsResponse: Decodable {
        struct Item: Decodable {
            var index: Int?
            var embedding: [Float]
        }
        var data: [Item]
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable { var message: String? }
        var error: Detail?
    }
}
