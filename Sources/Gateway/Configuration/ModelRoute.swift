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
    /// Several places this model's requests can go, instead of `provider` and `model`.
    public var deployments: [DeploymentConfiguration]
    /// How a request picks among the deployments.
    public var strategy: RoutingStrategy
    /// Other models (keys of `models:`) tried in order once every deployment of this one has
    /// failed.
    public var fallbacks: [String]
    /// The model tried when the provider says the prompt is too long for this one
    /// (`context_length_exceeded`), e.g. one with a larger context.
    public var contextFallback: String?
    /// The model tried when the provider refuses on content policy (`content_policy_violation`,
    /// `content_filter`).
    public var contentFallback: String?
    /// Whether an answer from a fallback model is cached under this model's name (off: such
    /// answers are served, not stored).
    public var cacheFallbackAnswers: Bool

    public init(
        provider: String, model: String? = nil, cache: Bool = true, threshold: Float? = nil, mode: CacheMode? = nil,
        deployments: [DeploymentConfiguration] = [], strategy: RoutingStrategy = .weighted, fallbacks: [String] = [],
        contextFallback: String? = nil, contentFallback: String? = nil, cacheFallbackAnswers: Bool = false
    ) {
        self.mode = mode
        self.deployments = deployments
        self.strategy = strategy
        self.fallbacks = fallbacks
        self.contextFallback = contextFallback
        self.contentFallback = contentFallback
        self.cacheFallbackAnswers = cacheFallbackAnswers
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
        deployments = try c.decodeIfPresent([DeploymentConfiguration].self, forKey: .deployments) ?? []
        strategy = try c.decodeIfPresent(RoutingStrategy.self, forKey: .strategy) ?? .weighted
        fallbacks = try c.decodeIfPresent([String].self, forKey: .fallbacks) ?? []
        contextFallback = try c.decodeIfPresent(String.self, forKey: .contextFallback)
        contentFallback = try c.decodeIfPresent(String.self, forKey: .contentFallback)
        cacheFallbackAnswers = try c.decodeIfPresent(Bool.self, forKey: .cacheFallbackAnswers) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case provider, model, cache, threshold, mode, deployments, strategy, fallbacks
        case contextFallback = "context_fallback", contentFallback = "content_fallback", cacheFallbackAnswers = "cache_fallback_answers"
    }

    /// The provider of its first deployment (the model list's `owned_by`).
    var firstProvider: String { allDeployments.first?.provider ?? provider }

    /// The deployments, the single `provider`/`model` one when none are listed.
    var allDeployments: [DeploymentConfiguration] {
        deployments.isEmpty ? [DeploymentConfiguration(provider: provider, model: model)] : deployments
    }
}
