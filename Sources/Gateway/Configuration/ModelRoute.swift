public import Embedding
import Foundation
public import SemanticCache

/// Where a model's requests go.
public struct ModelRoute: Codable, Sendable, Equatable {
    /// A key of `providers`.
    public var provider: String
    /// The model name upstream (default: the name the client used).
    public var model: String?
    /// Whether this model's answers are cached at all.
    public var cache: Bool
    /// The threshold of this model's requests, ahead of `cache.thresholds` and
    /// `cache.threshold` (`deja tune --model NAME --write FILE` sets it).
    public var threshold: Float?
    /// This model's own `cache.mode` (`live` or `shadow`), e.g. to try the cache on one route.
    public var mode: CacheMode?

    public init(provider: String, model: String? = nil, cache: Bool = true, threshold: Float? = nil, mode: CacheMode? = nil) {
        self.mode = mode
        self.provider = provider
        self.model = model
        self.cache = cache
        self.threshold = threshold
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? ""
        model = try c.decodeIfPresent(String.self, forKey: .model)
        cache = try c.decodeIfPresent(Bool.self, forKey: .cache) ?? true
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold)
        mode = try c.decodeIfPresent(CacheMode.self, forKey: .mode)
    }
}
