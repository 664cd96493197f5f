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
/// health and metrics. It holds no similarity logic: a handler decodes the request, asks the
/// cache, calls the upstream on a miss, stores and encodes.
///
/// ```swift
/// let gateway = try Gateway(configuration: configuration, cache: cache, client: client)
/// try await gateway.application().runService()
/// ```
public final class Gateway: Sendable {
    public let configuration: DejaConfiguration
    public let cache: SemanticCache
    public let metrics = GatewayMetrics()
    let upstream: Upstream
    let providers: [String: UpstreamProvider]
    /// The admin key for the `/v1/cache` routes; `nil` disables them.
    let adminKey: String?
    let logger: Logger
    let background = BackgroundWork()
    /// Identical misses in flight (`server.coalesce_misses`).
    let flights = MissFlights()
    /// Streams replayed from cached answers, for the next streamed hit on the same entry.
    let replays = ReplayMemo(limit: 32 << 20)
    /// Providers' model lists for `GET /v1/models`.
    let modelLists = ProviderModelLists()
    /// Answers that could not be stored: with a full disk every miss fails the same way.
    let storeFailures = SharedFailureLog(what: "caching answers")
    /// Lookups that failed (an embedder down) and were answered from the provider.
    let lookupFailures = SharedFailureLog(what: "cache lookups")
    /// `server.tls` as read at start; `nil` for plain HTTP.
    let tls: TLSConfiguration?

    /// - Throws: ``ConfigurationError`` when a provider's key variable is named but not set.
    public init(
        configuration: DejaConfiguration, cache: SemanticCache, client: HTTPClient,
        environment: [String: String]? = nil, logger: Logger = Logger(label: "deja")
    ) throws(ConfigurationError) {
        let environment = environment ?? ProcessInfo.processInfo.environment
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
        tls = configuration.server.tls.isEnabled ? try ServerTLS.configuration(configuration.server.tls) : nil
        self.configuration = configuration
        self.cache = cache
        self.providers = providers
        self.upstream = Upstream(client: client, metrics: metrics)
        let admin = environment[configuration.server.adminKeyEnv]
        self.adminKey = admin?.isEmpty == false ? admin : nil
        self.logger = logger
    }

    /// The routes, behind the request-log middleware.
    public func buildRouter() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        if !configuration.server.corsOrigins.isEmpty {
            router.add(middleware: CORSMiddleware(origins: configuration.server.corsOrigins))
        }
        router.add(middleware: RequestLogMiddleware(
            logger: logger, metrics: metrics, logPrompts: configuration.logging.prompts, json: configuration.logging.json))
        router.add(middleware: HostCheckMiddleware(configuration: configuration.server))
        router.post("/v1/chat/completions") { request, context in try await self.proxy(.chat, request, context) }
        router.post("/v1/completions") { request, context in try await self.proxy(.completions, request, context) }
        router.post("/v1/responses") { request, context in try await self.proxy(.responses, request, context) }
        router.post("/v1/embeddings") { request, context in try await self.embeddings(request, context) }
        router.get("/v1/models") { request, context in await self.models(request, context) }
        router.get("/v1/models/{model}") { _, context in try self.model(context.parameters.require("model")) }
        for path in Self.passThroughRoutes {
            router.post(RouterPath(path)) { request, context in try await self.passThrough(request, context) }
        }
        for (method, path) in Self.storedResponseRoutes {
            router.on(RouterPath(path), method: method) { request, context in try await self.storedResponse(request, context) }
        }
        addCacheRoutes(to: router)
        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in await self.readiness() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
        }
        return router
    }

    /// The Hummingbird application with the cache's upkeep as a service. `onRunning` receives
    /// the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let maintenance = CacheMaintenanceService(cache: cache, background: background, metrics: metrics, logger: logger)
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: [ExpectContinueHandler()],
            idleTimeout: configuration.server.idleTimeout > 0
                ? .nanoseconds(Int64(configuration.server.idleTimeout * 1e9)) : nil))
        return Application(
            router: buildRouter(),
            server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
            configuration: .init(
                address: .hostname(configuration.server.host, port: configuration.server.port), serverName: "deja"),
            services: [maintenance],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// What an operator should know when the gateway starts, one line each: the exposure of a
    /// non-loopback address, the lookup API turned off for want of an admin key, every web
    /// origin allowed.
    public var startupWarnings: [String] {
        Self.startupWarnings(
            configuration.server, keyedProviders: providers.values.filter { $0.apiKey != nil }.map(\.name).sorted(),
            hasAdminKey: adminKey != nil)
    }

    static func startupWarnings(_ server: ServerConfiguration, keyedProviders keys: [String], hasAdminKey: Bool) -> [String] {
        var out: [String] = []
        if !HostCheckMiddleware.isLoopback(server.host) {
            out.append("listening on \(server.host), not a loopback address: every client that reaches this port is served"
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

    /// The cache tenant of a request. With a provider key in the configuration, all clients
    /// share one tenant; without one, the client's own key goes upstream and its SHA-256 is the
    /// tenant, so clients with different keys never share answers.
    func tenant(_ provider: UpstreamProvider, authorization: String?) -> String {
        guard provider.apiKey == nil, let authorization, !authorization.isEmpty else { return "" }
        let digest = SHA256.hash(data: Data(authorization.utf8))
        return "key:" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(data: value.canonicalData)))
    }

    func readiness() async -> Response {
        do {
            _ = try await cache.store.metadata("embedder")
            return Self.json(["status": "ready", "entries": .int(Int64(cache.size.entries))])
        } catch {
            return Self.json(["status": "unavailable", "error": .string(error.description)], status: .serviceUnavailable)
        }
    }
}

import HTTPTypes
import NIOCore
import NIOFoundationCompat
import NIOFoundationEssentialsCompat
