public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import NIOFoundationEssentialsCompat

/// Where and how to reach an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM,
/// text-embeddings-inference, ...).
public struct RemoteEmbedderConfiguration: Codable, Sendable, Equatable {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`;
    /// `/embeddings` is appended.
    public var baseURL: String
    public var model: String
    /// The name of the environment variable holding the API key (the key itself never goes in a file).
    public var apiKeyEnv: String?
    /// The expected vector length; when absent it is learnt from the first answer.
    public var dimension: Int?
    /// Texts per request.
    public var batchSize: Int
    /// Seconds a request may take, body included.
    public var timeout: Double
    /// Retries after a 429, a 5xx, a timeout or a failed connection, with exponential backoff.
    public var maxRetries: Int
    /// The first backoff, doubled on each retry (a `Retry-After` header wins, up to 10 s).
    public var backoffMilliseconds: Int

    public init(
        baseURL: String, model: String, apiKeyEnv: String? = nil, dimension: Int? = nil, batchSize: Int = 64,
        timeout: Double = 10, maxRetries: Int = 3, backoffMilliseconds: Int = 200
    ) {
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.dimension = dimension
        self.batchSize = batchSize
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.backoffMilliseconds = backoffMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", model, apiKeyEnv = "api_key_env", dimension, batchSize = "batch_size"
        case timeout, maxRetries = "max_retries", backoffMilliseconds = "backoff_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RemoteEmbedderConfiguration(baseURL: "", model: "")
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL) ?? d.baseURL
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? d.model
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
        dimension = try c.decodeIfPresent(Int.self, forKey: .dimension)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? d.timeout
        maxRetries = try c.decodeIfPresent(Int.self, forKey: .maxRetries) ?? d.maxRetries
        backoffMilliseconds = try c.decodeIfPresent(Int.self, forKey: .backoffMilliseconds) ?? d.backoffMilliseconds
    }

    /// Every problem, as `field: message`.
    public var problems: [String] {
        var out: [String] = []
        if URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            out.append("base_url: must be an http or https URL, got '\(baseURL)'")
        }
        if model.isEmpty { out.append("model: must not be empty") }
        if let d = dimension, !(1...65_536).contains(d) { out.append("dimension: must be between 1 and 65536, got \(d)") }
        if !(1...2048).contains(batchSize) { out.append("batch_size: must be between 1 and 2048, got \(batchSize)") }
        if !(timeout > 0 && timeout <= 600) { out.append("timeout: must be between 0 and 600 seconds, got \(timeout)") }
        if !(0...10).contains(maxRetries) { out.append("max_retries: must be between 0 and 10, got \(maxRetries)") }
        if !(0...60_000).contains(backoffMilliseconds) {
            out.append("backoff_ms: must be between 0 and 60000, got \(backoffMilliseconds)")
        }
        return out
    }
}
