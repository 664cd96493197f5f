public import Embedding
import Foundation
public import SemanticCache

/// An upstream OpenAI-compatible API.
public struct ProviderConfiguration: Codable, Sendable, Equatable {
    /// The API root, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// The environment variable holding its API key (never the key itself).
    public var apiKeyEnv: String?
    /// Seconds an upstream call may take, streaming included.
    public var timeout: Double

    public init(baseURL: String, apiKeyEnv: String? = nil, timeout: Double = 120) {
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.timeout = timeout
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", apiKeyEnv = "api_key_env", timeout
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL) ?? ""
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? 120
    }

    var problems: [String] {
        var out: [String] = []
        if URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            out.append("base_url: must be an http or https URL, got '\(baseURL)'")
        }
        if !(timeout > 0 && timeout <= 3600) { out.append("timeout: must be between 0 and 3600 seconds, got \(timeout)") }
        return out
    }
}
