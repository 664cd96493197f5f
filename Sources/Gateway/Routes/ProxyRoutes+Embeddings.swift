import DejaSupport
import Embedding
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import NIOFoundationEssentialsCompat
import SemanticCache
import AsyncHTTPClient
import NIOHTTP1
import Logging

extension ProxyRoutes {
    /// `POST /v1/embeddings`: served by Deja's own embedder when the model is `embedder.name`,
    /// otherwise forwarded to the model's provider (never cached).
    func embeddings(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        var body = try await body(&request)
        let model = try requestedModel(body, context)
        guard model == configuration.embedder.name else {
            // The provider sees the input: the prompt's guards apply (Deja's own embedder runs in process).
            if let guards { body = try guards.screenPrompt(body, model: model, metrics: metrics, context: context).0 }
            let (provider, forwarded) = try routed(body, model: model)
            try await admitTokens(body, completes: false, context)
            let started = ContinuousClock.now
            let response = try await upstream.send(
                provider, path: "/embeddings", body: forwarded, clientHeaders: request.headers, requestID: context.requestID)
            guard response.status == .ok else { throw await upstream.error(for: response, provider: provider) }
            let answer = try await upstream.json(response, provider: provider)
            recordUpstream(provider, since: started, context: context)
            meterAnswer(answer, provider: provider, upstreamModel: forwarded["model"]?.stringValue ?? model, estimatedPrompt: 0, context)
            var forwardedAnswer = Response.json(answer)
            forwardedAnswer.headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
            return forwardedAnswer
        }
        let inputs: [String]
        switch body["input"] {
        case .string(let s)?:
            inputs = [s]
        case .array(let list)? where !list.isEmpty && list.allSatisfy({ $0.stringValue != nil }):
            inputs = list.compactMap(\.stringValue)
        default:
            throw OpenAIError.invalidRequest(
                "'input' must be a string or a non-empty array of strings (Deja's embedder does not take token arrays)",
                param: "input")
        }
        guard inputs.count <= 2048 else { throw OpenAIError.invalidRequest("At most 2048 inputs per request", param: "input") }
        // Deja's vectors have one length; cutting them short (as OpenAI's text-embedding-3 models
        // do) would give vectors that no longer compare as the model's.
        if let dimensions = body["dimensions"], !dimensions.isNull, dimensions.intValue != cache.embedder.dimension {
            throw OpenAIError.invalidRequest(
                "\(model) gives vectors of \(cache.embedder.dimension) dimensions; leave 'dimensions' out or set it to that",
                param: "dimensions")
        }
        let base64: Bool
        switch try RequestFields.string(body, "encoding_format") {
        case nil, "float": base64 = false
        case "base64": base64 = true
        case let other?:
            throw OpenAIError.invalidRequest("'encoding_format' must be float or base64, got '\(other)'", param: "encoding_format")
        }
        let vectors: [[Float]]
        do {
            vectors = try await cache.embedder.embed(inputs)
        } catch {
            throw OpenAIError.embedderUnavailable(error)
        }
        let data: [JSONValue] = vectors.enumerated().map { i, v in
            let embedding: JSONValue = base64
                ? .string(v.withUnsafeBytes { Data($0) }.base64EncodedString())
                : .array(v.map { .double(Double($0)) })
            return ["object": "embedding", "index": .int(Int64(i)), "embedding": embedding]
        }
        let tokens = inputs.map(OpenAIWire.estimatedTokens).reduce(0, +)
        return Response.json([
            "object": "list", "data": .array(data), "model": .string(model),
            "usage": ["prompt_tokens": .int(Int64(tokens)), "total_tokens": .int(Int64(tokens))],
        ])
    }
}
