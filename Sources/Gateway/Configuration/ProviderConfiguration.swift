public import Embedding
import Foundation
public import SemanticCache

/// An upstream API: OpenAI-compatible, or Anthropic's Messages API.
public struct ProviderConfiguration: Codable, Sendable, Equatable {
    /// The wire protocol a provider speaks.
    public enum Kind: String, Codable, Sendable, Equatable {
        /// OpenAI's (and every compatible API's): requests go as they came.
        case openai
        /// Anthropic's Messages API: chat completions are translated to it and back.
        case anthropic
    }

    /// `openai` or `anthropic`.
    public var kind: Kind
    /// The `anthropic-version` header sent to an Anthropic provider.
    public var anthropicVersion: String
    /// The API root, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// The environment variable holding its API key (never the key itself).
    public var apiKeyEnv: String?
    /// Seconds an upstream call may take, streaming included; with retries, the deadline of all
    /// the attempts together.
    public var timeout: Double
    /// Further attempts after a 408, 429, 5xx, timeout or refused connection, before anything
    /// has reached the client; 0 none.
    public var retries: Int
    /// The first backoff in milliseconds, doubled each retry (at most 10 s), with full jitter; a
    /// provider's `retry-after-ms` or `retry-after` wins.
    public var retryBackoffMs: Int
    /// The circuit breaker of each of its deployments.
    public var breaker: BreakerConfiguration

    public init(
        baseURL: String, apiKeyEnv: String? = nil, timeout: Double = 120, retries: Int = 0, retryBackoffMs: Int = 250,
        breaker: BreakerConfiguration = .init(), kind: Kind = .openai, anthropicVersion: String = "2023-06-01"
    ) {
        self.breaker = breaker
        self.kind = kind
        self.anthropicVersion = anthropicVersion
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.timeout = timeout
        self.retries = retries
        self.retryBackoffMs = retryBackoffMs
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", apiKeyEnv = "api_key_env", timeout, retries, retryBackoffMs = "retry_backoff_ms", breaker, kind
        case anthropicVersion = "anthropic_version"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL) ?? ""
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? 120
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? 0
        retryBackoffMs = try c.decodeIfPresent(Int.self, forKey: .retryBackoffMs) ?? 250
        breaker = try c.decodeIfPresent(BreakerConfiguration.self, forKey: .breaker) ?? .init()
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .openai
        anthropicVersion = try c.decodeIfPresent(String.self, forKey: .anthropicVersion) ?? "2023-06-01"
    }

    var problems: [String] {
        var out: [String] = []
        if URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            out.append("base_url: must be an http or https URL, got '\(baseURL)'")
        }
        if !(timeout > 0 && timeout <= 3600) { out.append("timeout: must be between 0 and 3600 seconds, got \(timeout)") }
        if !(0...10).contains(retries) { out.append("retries: must be between 0 and 10, got \(retries)") }
        if !(1...60_000).contains(retryBackoffMs) { out.append("retry_backoff_ms: must be between 1 and 60000, got \(retryBackoffMs)") }
        return out + breaker.problems
    }
}
