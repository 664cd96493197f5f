public import Embedding
import Foundation
public import SemanticCache

/// The whole of `deja.yaml`. Every option has a default, so an empty file is a valid
/// configuration; `fixtures/deja.example.yaml` documents each one.
public struct DejaConfiguration: Codable, Sendable, Equatable {
    public var server: ServerConfiguration
    public var embedder: EmbedderConfiguration
    public var cache: CacheConfiguration
    /// Upstream LLM APIs by name.
    public var providers: [String: ProviderConfiguration]
    /// The models clients may ask for, each routed to a provider. The key `*` matches any model
    /// not listed and forwards it under its own name.
    public var models: [String: ModelRoute]
    public var logging: LoggingConfiguration
    /// Keys, tenants and prices (the keys themselves live in `governance.store`).
    public var governance: GovernanceConfiguration
    /// The usage ledger.
    public var usage: UsageConfiguration
    /// Checks of requests before they are looked up or forwarded.
    public var guards: GuardsConfiguration

    public init(
        server: ServerConfiguration = .init(), embedder: EmbedderConfiguration = .init(), cache: CacheConfiguration = .init(),
        providers: [String: ProviderConfiguration] = [:], models: [String: ModelRoute] = [:],
        logging: LoggingConfiguration = .init(), governance: GovernanceConfiguration = .init(), usage: UsageConfiguration = .init(),
        guards: GuardsConfiguration = .init()
    ) {
        self.server = server
        self.embedder = embedder
        self.cache = cache
        self.providers = providers
        self.models = models
        self.logging = logging
        self.governance = governance
        self.usage = usage
        self.guards = guards
    }

    /// The longest silence allowed in the middle of an upstream answer (the HTTP client's read
    /// timeout, one for all upstreams): the longest `timeout` of the providers and the remote
    /// embedder, so that none is cut shorter than its own.
    public var upstreamReadTimeout: Double {
        let timeouts = providers.values.map(\.timeout) + (embedder.remote.map { [$0.timeout] } ?? [])
        return timeouts.max() ?? ProviderConfiguration(baseURL: "").timeout
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        server = try c.decodeIfPresent(ServerConfiguration.self, forKey: .server) ?? .init()
        embedder = try c.decodeIfPresent(EmbedderConfiguration.self, forKey: .embedder) ?? .init()
        cache = try c.decodeIfPresent(CacheConfiguration.self, forKey: .cache) ?? .init()
        providers = try c.decodeIfPresent([String: ProviderConfiguration].self, forKey: .providers) ?? [:]
        models = try c.decodeIfPresent([String: ModelRoute].self, forKey: .models) ?? [:]
        logging = try c.decodeIfPresent(LoggingConfiguration.self, forKey: .logging) ?? .init()
        governance = try c.decodeIfPresent(GovernanceConfiguration.self, forKey: .governance) ?? .init()
        usage = try c.decodeIfPresent(UsageConfiguration.self, forKey: .usage) ?? .init()
        guards = try c.decodeIfPresent(GuardsConfiguration.self, forKey: .guards) ?? .init()
    }

    /// Every problem, one `path: message` each.
    public var problems: [String] {
        var out = server.problems + embedder.problems + cache.problems + logging.problems + governance.problems + usage.problems + guards.problems
        for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
            out += provider.problems.map { "providers.\(name).\($0)" }
        }
        for (name, route) in models.sorted(by: { $0.key < $1.key }) {
            let known = providers.keys.sorted().joined(separator: ", ")
            if route.deployments.isEmpty, providers[route.provider] == nil {
                out.append("models.\(name).provider: no provider named '\(route.provider)' (known: \(known.isEmpty ? "none" : known))")
            }
            for (i, d) in route.deployments.enumerated() {
                let path = "models.\(name).deployments[\(i)]"
                if providers[d.provider] == nil {
                    out.append("\(path).provider: no provider named '\(d.provider)' (known: \(known.isEmpty ? "none" : known))")
                }
                out += d.problems(at: path)
            }
            for fallback in route.fallbacks + [route.contextFallback, route.contentFallback].compactMap({ $0 }) {
                if models[fallback] == nil || fallback == name || fallback == "*" {
                    out.append("models.\(name): the fallback '\(fallback)' must be another model of models:")
                }
            }
            if name == embedder.name {
                out.append("models.\(name): the name is taken by embedder.name, Deja's own embeddings model")
            }
            if let t = route.threshold {
                if name == "*" {
                    out.append("models.*.threshold: set cache.threshold for every model instead")
                } else if !(t >= 0 && t <= 1) {
                    out.append("models.\(name).threshold: must be between 0 and 1, got \(t)")
                }
            }
        }
        return out
    }

    /// The cache section as the cache uses it: each model route's `threshold` applies to every
    /// request for exactly that model name (every tenant and partition), ahead of
    /// `cache.thresholds`.
    public var effectiveCache: CacheConfiguration {
        var effective = cache
        for (name, route) in models where name != "*" {
            if let threshold = route.threshold { effective.modelThresholds[name] = threshold }
        }
        return effective
    }

    /// The route for a model a client asked for: its own entry, else `*`.
    public func route(for model: String) -> (route: ModelRoute, upstreamModel: String)? {
        if let route = models[model] { return (route, route.model ?? model) }
        if let any = models["*"] { return (any, model) }
        return nil
    }
}
