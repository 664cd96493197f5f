import DejaSupport
import Hummingbird
import Logging
import SemanticCache

/// The OpenAI-compatible routes: the cached APIs (chat completions, text completions, the
/// Responses API), embeddings, the model list, and the routes forwarded uncached. A handler
/// decodes the request, asks the cache, calls the upstream on a miss, stores and encodes; it
/// holds no similarity logic.
struct ProxyRoutes: Sendable {
    let configuration: DejaConfiguration
    let cache: SemanticCache
    let metrics: GatewayMetrics
    let upstream: Upstream
    let routing: ModelRouting
    let logger: Logger
    /// Answers being stored after their response went out.
    let background: BackgroundWork
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
    /// Hits served lately, for feedback that names its request.
    let recentHits: RecentHits
    /// Shadow mode's verdicts, when any route is in shadow mode.
    let shadowLog: ShadowLog?
    /// Keys, limits and the usage ledger; `nil` without a governance store.
    let governance: Governance?
    /// DLP, deny-lists and the injection guard; `nil` when all are off.
    let guards: RequestGuards?

    /// OpenAI routes with a JSON body naming a `model` that Deja forwards without caching, so
    /// that an application pointed at Deja keeps every API of its client library: moderations,
    /// image generation, text to speech, and the Responses API's token counting and compaction.
    static let passThroughPaths = [
        "/v1/moderations", "/v1/images/generations", "/v1/audio/speech", "/v1/responses/input_tokens", "/v1/responses/compact",
    ]

    /// Responses API routes that name a stored response by id, not a model: retrieving one
    /// (how a `background: true` response is collected), deleting it, cancelling it, listing its
    /// input items.
    static let storedResponsePaths: [(HTTPRequest.Method, String)] = [
        (.get, "/v1/responses/{id}"), (.delete, "/v1/responses/{id}"), (.post, "/v1/responses/{id}/cancel"),
        (.get, "/v1/responses/{id}/input_items"),
    ]

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        let gate = governance.map { VirtualKeyGate(governance: $0, metrics: metrics) }
        /// A proxied route: its handler runs once the gate has admitted the request.
        func on(
            _ path: RouterPath, _ method: HTTPRequest.Method,
            _ handle: @escaping @Sendable (Request, GatewayContext) async throws -> Response
        ) {
            routes.on(path, method: method) { request, context in
                guard let gate else { return try await handle(request, context) }
                return try await gate.admit(request, context, then: handle)
            }
        }
        on("/v1/chat/completions", .post) { request, context in try await complete(.chat, request, context) }
        on("/v1/completions", .post) { request, context in try await complete(.completions, request, context) }
        on("/v1/responses", .post) { request, context in try await complete(.responses, request, context) }
        on("/v1/messages", .post) { request, context in try await messages(request, context) }
        on("/v1/messages/count_tokens", .post) { request, context in try await countMessageTokens(request, context) }
        on("/v1/embeddings", .post) { request, context in try await embeddings(request, context) }
        on("/v1/models", .get) { request, context in await models(request, context) }
        on("/v1/models/{model}", .get) { _, context in try model(context.parameters.require("model")) }
        for path in Self.passThroughPaths {
            on(RouterPath(path), .post) { request, context in try await passThrough(request, context) }
        }
        for (method, path) in Self.storedResponsePaths {
            on(RouterPath(path), method) { request, context in try await storedResponse(request, context) }
        }
        return routes
    }

    /// The request's JSON body, within `server.max_body_bytes`.
    func body(_ request: inout Request) async throws -> JSONValue {
        try await RequestBody.object(&request, limit: configuration.server.maxBodyBytes)
    }

    func recordUpstream(_ provider: UpstreamProvider, since started: ContinuousClock.Instant, context: GatewayContext) {
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        metrics.upstream(provider: provider.name, nanoseconds: nanoseconds)
        context.facts.set(upstreamMilliseconds: Double(nanoseconds) / 1e6)
    }

    /// The body with its `model` as the provider calls it.
    static func renamed(_ body: JSONValue, to upstreamModel: String) -> JSONValue {
        var forwarded = body.objectValue!
        forwarded["model"] = .string(upstreamModel)
        return .object(forwarded)
    }
}
