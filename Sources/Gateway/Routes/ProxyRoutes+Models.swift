import DejaSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SemanticCache

extension ProxyRoutes {
    /// How long `GET /v1/models` waits for the provider's list before answering without it.
    static let modelListTimeout = 5.0

    /// `GET /v1/models`: the configured model names, then, when `*` routes to a provider, the
    /// models that provider lists, then Deja's own embedder.
    ///
    /// Chat front ends fill their model menu from this list, so with `*` alone it must hold the
    /// provider's models, not just `deja-embed`. The provider is asked with the client's headers
    /// like any forwarded call (its key when Deja holds none). If it cannot be asked (down,
    /// slow, a refused key), the configured names alone are the answer, so that a client still
    /// starts, and the log says why.
    func models(_ request: Request, _ context: GatewayContext) async -> Response {
        var data = configuration.models.keys.filter { $0 != "*" }.sorted().map { name in
            Self.modelObject(name, ownedBy: configuration.models[name]!.firstProvider)
        }
        var listed = Set(data.compactMap { $0["id"]?.stringValue })
        if let any = configuration.models["*"], let provider = routing.providers[any.firstProvider] {
            for model in await providerModels(provider, request, context) {
                if let id = model["id"]?.stringValue, listed.insert(id).inserted { data.append(model) }
            }
        }
        if listed.insert(configuration.embedder.name).inserted {
            data.append(Self.modelObject(configuration.embedder.name, ownedBy: "deja"))
        }
        return Response.json(["object": "list", "data": .array(data)])
    }

    /// The `data` of the provider's `GET /models` (kept a minute), or nothing (logged) when it
    /// cannot be had.
    private func providerModels(_ provider: UpstreamProvider, _ request: Request, _ context: GatewayContext) async -> [JSONValue] {
        let key = provider.name + "|" + provider.tenant(authorization: request.headers[.authorization])
        if let kept = modelLists.get(key) { return kept }
        var problem: String
        do {
            let response = try await upstream.send(
                provider, method: .GET, path: "/models", body: nil, clientHeaders: request.headers,
                requestID: context.requestID, timeout: min(Self.modelListTimeout, provider.configuration.timeout))
            if response.status == .ok {
                let body = try await response.body.collect(upTo: 8 << 20)
                if let list = (try? JSONValue.parse(Data(buffer: body)))?["data"]?.arrayValue {
                    modelLists.put(key, list)
                    return list
                }
                problem = "its answer is not a model list"
            } else {
                problem = "it answered \(response.status.code)"
            }
        } catch {
            problem = "\(error)"
        }
        logger.warning(
            "GET /v1/models lists the configured models only: cannot list the models of provider '\(provider.name)': \(problem)",
            metadata: ["request_id": .string(context.requestID)])
        return []
    }

    /// `GET /v1/models/{model}`: one model as the list shows it; a name only `*` takes is
    /// owned by that route's provider. Client libraries call it to check a model exists.
    func model(_ name: String) throws -> Response {
        if name == configuration.embedder.name { return Response.json(Self.modelObject(name, ownedBy: "deja")) }
        guard let (route, _) = configuration.route(for: name) else {
            throw OpenAIError.modelNotFound(name)
        }
        return Response.json(Self.modelObject(name, ownedBy: route.firstProvider))
    }

    static func modelObject(_ id: String, ownedBy owner: String) -> JSONValue {
        ["id": .string(id), "object": "model", "created": 0, "owned_by": .string(owner)]
    }
}
