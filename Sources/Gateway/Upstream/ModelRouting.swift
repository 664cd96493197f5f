import Foundation

/// Where a model's requests go: the `models:` routes of the configuration over the providers,
/// with each provider's key read from the environment at start.
struct ModelRouting: Sendable {
    /// Where a request for one model goes.
    struct Destination: Sendable {
        var route: ModelRoute
        /// The model's name at the provider (of the first deployment, until one has answered).
        var upstreamModel: String
        var provider: UpstreamProvider
        /// The route's deployments; the key of `models:` it is under.
        var deployments: RouteDeployments
    }

    let models: [String: ModelRoute]
    let providers: [String: UpstreamProvider]
    /// Each route's deployments, by its key in `models:`.
    let routes: [String: RouteDeployments]

    /// Reads each provider's key from `environment`.
    /// - Throws: ``ConfigurationError`` naming every provider whose key variable is not set.
    init(configuration: DejaConfiguration, environment: [String: String]) throws(ConfigurationError) {
        var problems: [String] = []
        var providers: [String: UpstreamProvider] = [:]
        for (name, p) in configuration.providers {
            var key: String?
            if let variable = p.apiKeyEnv {
                key = environment[variable]
                if key?.isEmpty != false {
                    problems.append("providers.\(name).api_key_env: the variable \(variable) is not set; export the provider's key in it")
                }
            }
            providers[name] = UpstreamProvider(name: name, configuration: p, apiKey: key)
        }
        guard problems.isEmpty else { throw ConfigurationError(problems.sorted()) }
        self.models = configuration.models
        self.providers = providers
        var routes: [String: RouteDeployments] = [:]
        for (name, route) in configuration.models {
            let deployments = route.allDeployments.compactMap { d in providers[d.provider].map { Deployment(provider: $0, configuration: d) } }
            routes[name] = RouteDeployments(name: name, deployments: deployments, strategy: route.strategy)
        }
        self.routes = routes
    }

    /// Where requests for `model` go: its own route, else that of `*`.
    /// - Throws: 404 `model_not_found` for a model no route takes.
    func destination(of model: String) throws(OpenAIError) -> Destination {
        for name in [model, "*"] {
            if let route = models[name], let deployments = routes[name], let first = deployments.deployments.first {
                return Destination(route: route, upstreamModel: first.model ?? model, provider: first.provider, deployments: deployments)
            }
        }
        throw .modelNotFound(model)
    }

    /// The provider for requests that name no model: that of `*`, else the only one.
    var defaultProvider: UpstreamProvider? {
        if let any = models["*"] { return providers[any.firstProvider] }
        return providers.count == 1 ? providers.values.first : nil
    }

    /// The providers that hold a key of their own, by name (for the start-up warnings).
    var keyedProviders: [String] {
        providers.values.filter { $0.apiKey != nil }.map(\.name).sorted()
    }
}
