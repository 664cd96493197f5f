import DejaSupport
public import AsyncHTTPClient
import Crypto
import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
public import Logging
public import SemanticCache

/// The gateway: an OpenAI-compatible proxy that consults the semantic cache, the lookup API,
/// health and metrics, each a collection of routes (``ProxyRoutes``, ``CacheAPIRoutes``,
/// ``OperationsRoutes``) that this type builds and mounts. A new group of routes is one more
/// collection added in ``buildRouter()``.
///
/// ```swift
/// let gateway = try Gateway(configuration: configuration, cache: cache, client: client)
/// try await gateway.application().runService()
/// ```
public final class Gateway: Sendable {
    public let configuration: DejaConfiguration
    public let cache: SemanticCache
    public let metrics = GatewayMetrics()
    let logger: Logger
    /// Answers being stored after their response went out; shutdown waits for them.
    let background = BackgroundWork()
    /// `server.tls` as read at start; `nil` for plain HTTP.
    let tls: TLSConfiguration?
    /// Whether the admin key is set (the lookup API answers 401 without it).
    let hasAdminKey: Bool
    let proxy: ProxyRoutes
    let cacheAPI: CacheAPIRoutes
    let operations: OperationsRoutes
    /// Keys, limits, budgets and the usage ledger, with their admin routes; `nil` when the
    /// gateway was made without a governance store (tests of other parts).
    public let governance: Governance?
    let admin: AdminRoutes?
    let deployments: DeploymentRoutes
    let trafficRoutes: TrafficRoutes
    let dashboard: DashboardRoutes

    /// - Throws: ``ConfigurationError`` when a provider's key variable is named but not set, or
    ///   `server.auth` is `keys` without a governance store.
    public init(
        configuration: DejaConfiguration, cache: SemanticCache, client: HTTPClient, governance: Governance? = nil,
        environment: [String: String]? = nil, logger: Logger = Logger(label: "deja")
    ) throws(ConfigurationError) {
        if configuration.server.auth == .keys && governance == nil {
            throw ConfigurationError(["server.auth: keys needs the governance store (Governance.open)"])
        }
        self.governance = governance
        let environment = environment ?? ProcessInfo.processInfo.environment
        let routing = try ModelRouting(configuration: configuration, environment: environment)
        tls = configuration.server.tls.isEnabled ? try ServerTLS.configuration(configuration.server.tls) : nil
        self.configuration = configuration
        self.cache = cache
        self.logger = logger
        let admin = environment[configuration.server.adminKeyEnv].flatMap { $0.isEmpty ? nil : $0 }
        hasAdminKey = admin != nil
        let recentHits = RecentHits()
        let shadowed = configuration.cache.mode == .shadow || configuration.models.values.contains { $0.mode == .shadow }
        proxy = ProxyRoutes(
            configuration: configuration, cache: cache, metrics: metrics,
            upstream: Upstream(client: client, metrics: metrics, forwardsClientKeys: configuration.server.auth == .none),
            routing: routing, logger: logger, background: background, recentHits: recentHits,
            shadowLog: shadowed ? ShadowLog(path: configuration.cache.shadowLog, logger: logger) : nil,
            governance: governance, guards: try RequestGuards.make(configuration.guards))
        let adminKey = AdminKeyMiddleware(adminKey: admin, keyVariable: configuration.server.adminKeyEnv)
        cacheAPI = CacheAPIRoutes(
            cache: cache, metrics: metrics, recentHits: recentHits, maxBodyBytes: configuration.server.maxBodyBytes,
            adminKey: adminKey)
        self.admin = governance.map { AdminRoutes(governance: $0, maxBodyBytes: configuration.server.maxBodyBytes, adminKey: adminKey) }
        operations = OperationsRoutes(cache: cache, metrics: metrics)
        deployments = DeploymentRoutes(routing: routing, adminKey: adminKey)
        trafficRoutes = TrafficRoutes(traffic: metrics.traffic, cache: cache, adminKey: adminKey)
        dashboard = DashboardRoutes(
            adminKey: adminKey, governance: governance != nil, secureCookies: configuration.server.tls.isEnabled,
            missingKey: admin == nil ? configuration.server.adminKeyEnv : nil)
    }

    /// The routes: one collection per concern, behind the middleware every request passes
    /// (browsers' preflights, the request log, the check of the name Deja was addressed by).
    public func buildRouter() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        if !configuration.server.corsOrigins.isEmpty {
            router.add(middleware: CORSMiddleware(origins: configuration.server.corsOrigins))
        }
        router.add(middleware: RequestLogMiddleware(
            logger: logger, metrics: metrics, logPrompts: configuration.logging.prompts, json: configuration.logging.json,
            governance: governance, hostCheck: HostCheck(configuration: configuration.server)))
        router.addRoutes(proxy.routes)
        router.addRoutes(cacheAPI.routes, atPath: "/v1/cache")
        if let admin { router.addRoutes(admin.routes, atPath: "/v1/admin") }
        router.addRoutes(deployments.routes, atPath: "/v1/admin")
        router.addRoutes(trafficRoutes.routes, atPath: "/v1/admin")
        router.addRoutes(dashboard.routes, atPath: "/ui")
        router.addRoutes(operations.routes)
        return router
    }

    /// The Hummingbird application with the cache's upkeep as a service. `onRunning` receives
    /// the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let limits = ConnectionGuard.Limits(
            requestTimeout: configuration.server.requestTimeout > 0
                ? .nanoseconds(Int64(configuration.server.requestTimeout * 1e9)) : nil,
            connections: OpenConnections(limit: configuration.server.maxConnections),
            onTimeout: { [metrics] in metrics.connectionRefused(reason: "request_timeout") },
            onRefusal: { [metrics] in metrics.connectionRefused(reason: "max_connections") })
        let maintenance = CacheMaintenanceService(
            cache: cache, background: background, metrics: metrics, logger: logger,
            closedConnections: ClosedConnectionMemory(connections: limits.connections))
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: [ConnectionGuard(limits: limits), ParserErrorHandler(), ExpectContinueHandler()],
            idleTimeout: configuration.server.idleTimeout > 0
                ? .nanoseconds(Int64(configuration.server.idleTimeout * 1e9)) : nil))
        return Application(
            router: buildRouter(),
            server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
            configuration: .init(
                address: .hostname(configuration.server.host, port: configuration.server.port), serverName: "deja"),
            services: [maintenance] + (governance.map { [UsageLedgerService(governance: $0, metrics: metrics, logger: logger)] } ?? [])
                + ((governance?.leases).map { [SharedLimitsService(leases: $0, metrics: metrics, logger: logger)] } ?? [])
                + (governance.flatMap { g in (g.store as? any SharedLimitStore).map { [KeyFollowerService(governance: g, store: $0, logger: logger)] } } ?? [])
                + ((cache.store as? any ChangeFeed).map { [ChangeFollowerService(cache: cache, feed: $0, metrics: metrics, logger: logger)] } ?? []),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// What an operator should know when the gateway starts, one line each: the exposure of a
    /// non-loopback address, the lookup API turned off for want of an admin key, every web
    /// origin allowed.
    public var startupWarnings: [String] {
        var out = Self.startupWarnings(
            configuration.server, keyedProviders: proxy.routing.keyedProviders, hasAdminKey: hasAdminKey)
        if configuration.server.auth == .keys {
            let keyless = proxy.routing.providers.values.filter { $0.apiKey == nil }.map(\.name).sorted()
            if !keyless.isEmpty {
                out.append("server.auth is keys, and providers \(keyless.joined(separator: ", ")) have no api_key_env: clients' "
                    + "Deja keys are never forwarded, so calls to them go without a key")
            }
            if governance?.keyCount == 0 {
                out.append("server.auth is keys and there are no keys yet: make one with `deja keys create --tenant NAME`")
            }
        }
        return out
    }

    static func startupWarnings(_ server: ServerConfiguration, keyedProviders keys: [String], hasAdminKey: Bool) -> [String] {
        var out: [String] = []
        if !HostCheck.isLoopback(server.host) && server.auth == .none {
            out.append("listening on \(server.host), not a loopback address, with server.auth none: every client that reaches this port is served"
                + (keys.isEmpty ? "" : ", with the keys of providers \(keys.joined(separator: ", ")); put Deja behind a firewall or an authenticating proxy")
                + (server.tls.isEnabled ? "" : "; prompts and answers cross the network unencrypted unless server.tls is set"))
        }
        if !hasAdminKey {
            out.append("the lookup API (/v1/cache/...) answers 401: set \(server.adminKeyEnv) to use it")
        }
        if server.corsOrigins.contains("*") {
            out.append("server.cors_origins is \"*\": any web page open in a browser that reaches Deja can call it"
                + (keys.isEmpty ? "" : " with the keys of providers \(keys.joined(separator: ", "))")
                + "; list the origins of your own pages instead")
        }
        return out
    }

    /// Waits for answers still being stored in the cache (for tests and shutdown).
    public func drainBackgroundWork() async {
        await background.drain()
    }
}
