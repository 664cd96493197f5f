import DejaSupport
import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SemanticCache

extension Gateway {
    /// OpenAI routes with a JSON body naming a `model` that Deja forwards without caching, so
    /// that an application pointed at Deja keeps every API of its client library: moderations,
    /// image generation, text to speech, and the Responses API's token counting and compaction.
    static let passThroughRoutes = [
        "/v1/moderations", "/v1/images/generations", "/v1/audio/speech", "/v1/responses/input_tokens", "/v1/responses/compact",
    ]

    /// Forwards the request to its model's provider and the answer back as it arrives, status,
    /// content type and body unchanged (a stream stays a stream, audio stays audio).
    func passThrough(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let path = request.uri.path
        let body = try await readJSON(&request)
        let (provider, forwarded) = try routed(body, model: requestedModel(body, context))
        let started = ContinuousClock.now
        let response = try await upstream.send(
            provider, path: String(path.dropFirst("/v1".count)), body: forwarded,
            clientHeaders: request.headers, requestID: context.requestID)
        return try await relay(response, from: provider, since: started, context: context)
    }

    /// Responses API routes that name a stored response by id, not a model: retrieving one
    /// (how a `background: true` response is collected), deleting it, cancelling it, listing its
    /// input items.
    static let storedResponseRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/v1/responses/{id}"), (.delete, "/v1/responses/{id}"), (.post, "/v1/responses/{id}/cancel"),
        (.get, "/v1/responses/{id}/input_items"),
    ]

    /// Forwards a stored-response route, query included and without a body, to the provider of
    /// `*` in `models:` (or the only provider): a request that names no model has no route of
    /// its own.
    /// - Throws: 400 for an id that is not one, 404 when no provider takes such requests.
    func storedResponse(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw OpenAIError.invalidRequest("'\(id)' is not a response id", param: "id")
        }
        guard let provider = defaultProvider else {
            throw OpenAIError.notFound(
                "No provider takes requests that name no model: route \"*\" to one under models:, or configure one provider",
                code: "no_default_provider")
        }
        context.facts.set(cache: "bypass")
        var path = String(request.uri.path.dropFirst("/v1".count))
        if let query = request.uri.query, !query.isEmpty { path += "?" + query }
        let started = ContinuousClock.now
        let response = try await upstream.send(
            provider, method: NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue), path: path, body: nil,
            clientHeaders: request.headers, requestID: context.requestID)
        return try await relay(response, from: provider, since: started, context: context)
    }

    /// The provider for requests that name no model: that of `*`, else the only one.
    var defaultProvider: UpstreamProvider? {
        if let any = configuration.models["*"] { return providers[any.provider] }
        return providers.count == 1 ? providers.values.first : nil
    }

    /// A provider's answer passed to the client as it arrives, status, content type, body and
    /// the provider headers a client may see unchanged; an error status becomes the client's
    /// OpenAI error.
    func relay(
        _ response: HTTPClientResponse, from provider: UpstreamProvider, since started: ContinuousClock.Instant,
        context: GatewayContext
    ) async throws -> Response {
        guard (200..<300).contains(response.status.code) else { throw await upstream.error(for: response, provider: provider) }
        let contentType = response.headers.first(name: "content-type") ?? "application/json"
        let isStream = contentType.hasPrefix("text/event-stream")
        var headers: HTTPFields = [.contentType: contentType, .xDejaCache: "bypass"]
        if isStream { headers[.cacheControl] = "no-cache" }
        headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init { writer in
            var failure: OpenAIError?
            do {
                for try await chunk in response.body { try await writer.write(chunk) }
            } catch {
                failure = self.upstream.failure(error, provider: provider)
            }
            self.recordUpstream(provider, since: started, context: context)
            if let failure {
                // A stream can say why it ended; any other body is cut off, which the client sees.
                guard isStream else { throw failure }
                try await writer.write(ServerSentEvents.error(failure))
            }
            try await writer.finish(nil)
        })
    }

    /// The body's `model`, recorded for the log line of a request that is never cached.
    /// - Throws: 400 without a model.
    func requestedModel(_ body: JSONValue, _ context: GatewayContext) throws(OpenAIError) -> String {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("You must provide a model parameter", param: "model")
        }
        context.facts.set(model: model, cache: "bypass")
        return model
    }

    /// The provider of `model` and the body as it goes there (the model renamed as the route says).
    /// - Throws: 404 for a model no route takes.
    func routed(_ body: JSONValue, model: String) throws(OpenAIError) -> (UpstreamProvider, JSONValue) {
        let (_, upstreamModel, provider) = try destination(of: model)
        return (provider, Self.renamed(body, to: upstreamModel))
    }

    /// Where requests for `model` go: its route, the model's name upstream, and the provider.
    /// - Throws: 404 for a model no route takes.
    func destination(of model: String) throws(OpenAIError) -> (route: ModelRoute, upstreamModel: String, provider: UpstreamProvider) {
        guard let (route, upstreamModel) = configuration.route(for: model), let provider = providers[route.provider] else {
            throw .modelNotFound(model)
        }
        return (route, upstreamModel, provider)
    }

    /// The body with its `model` as the provider calls it.
    static func renamed(_ body: JSONValue, to upstreamModel: String) -> JSONValue {
        var forwarded = body.objectValue!
        forwarded["model"] = .string(upstreamModel)
        return .object(forwarded)
    }
}
