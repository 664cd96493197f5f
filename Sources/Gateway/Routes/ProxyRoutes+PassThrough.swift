import DejaSupport
import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SemanticCache

extension ProxyRoutes {
    /// Forwards the request to its model's provider and the answer back as it arrives, status,
    /// content type and body unchanged (a stream stays a stream, audio stays audio).
    func passThrough(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let path = request.uri.path
        let body = try await body(&request)
        let (provider, forwarded) = try routed(body, model: requestedModel(body, context))
        let started = ContinuousClock.now
        let response = try await upstream.send(
            provider, path: String(path.dropFirst("/v1".count)), body: forwarded,
            clientHeaders: request.headers, requestID: context.requestID)
        return try await relay(response, from: provider, since: started, context: context)
    }

    /// Forwards a stored-response route, query included and without a body, to the provider of
    /// `*` in `models:` (or the only provider): a request that names no model has no route of
    /// its own.
    /// - Throws: 400 for an id that is not one, 404 when no provider takes such requests.
    func storedResponse(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw OpenAIError.invalidRequest("'\(id)' is not a response id", param: "id")
        }
        guard let provider = routing.defaultProvider else {
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
                failure = upstream.failure(error, provider: provider)
            }
            recordUpstream(provider, since: started, context: context)
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
        try authorize(model: model, context)
        return model
    }

    /// The provider of `model` and the body as it goes there (the model renamed as the route says).
    /// - Throws: 404 for a model no route takes.
    func routed(_ body: JSONValue, model: String) throws(OpenAIError) -> (UpstreamProvider, JSONValue) {
        let destination = try routing.destination(of: model)
        return (destination.provider, Self.renamed(body, to: destination.upstreamModel))
    }
}
