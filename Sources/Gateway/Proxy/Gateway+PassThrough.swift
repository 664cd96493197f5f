import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SemanticCache

extension Gateway {
    /// OpenAI routes with a JSON body naming a `model` that Deja forwards without caching, so
    /// that an application pointed at Deja keeps every API of its client library: moderations,
    /// image generation, text to speech.
    static let passThroughRoutes = ["/v1/moderations", "/v1/images/generations", "/v1/audio/speech"]

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
        guard let (route, upstreamModel) = configuration.route(for: model), let provider = providers[route.provider] else {
            throw .modelNotFound(model)
        }
        var forwarded = body.objectValue!
        forwarded["model"] = .string(upstreamModel)
        return (provider, .object(forwarded))
    }
}
