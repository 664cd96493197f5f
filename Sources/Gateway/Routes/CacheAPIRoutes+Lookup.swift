import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

extension CacheAPIRoutes {
    /// `POST /v1/cache/lookup`: the proxy's decision for a prompt, without the proxy.
    ///
    /// An application that calls its model itself asks here first: `{"model", "prompt",
    /// "system"?, "namespace"?, "tenant"?, "threshold"?, "max_age"?}` gets the answer a chat
    /// request with that model, system prompt and prompt would be served (exact match, then
    /// similarity above the threshold that applies, past the false-positive guard, not expired),
    /// or a miss with the best similarity seen and why the guard refused; on a miss it calls its
    /// model and stores the answer with `POST /v1/cache/entries`. Counted in the statistics like
    /// a proxied lookup. `threshold` may only raise the configured one, as `x-deja-threshold`.
    func lookUp(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await body(&request)
        let cacheRequest = try PlainPrompt(body).request
        var options = LookupOptions()
        options.threshold = try RequestFields.number(body, "threshold", in: 0...1, "a number between 0 and 1").map(Float.init)
        options.maxAge = try RequestFields.number(body, "max_age", in: 0...Double.greatestFiniteMagnitude, "a number of seconds")
        let result = try await cache.lookup(cacheRequest, options: options)
        let namespace = result.namespace
        let threshold = cache.threshold(cacheRequest, in: namespace, options: options)
        // As configured (0.8, not the Float's 0.800000011920929).
        let shown = (Double(threshold) * 10_000).rounded() / 10_000
        var out: [String: JSONValue] = [
            "object": "cache.lookup", "threshold": .double(shown), "namespace": .string(namespace.id.description),
        ]
        switch result {
        case .hit(let hit):
            metrics.observe(hit)
            out["hit"] = true
            out["kind"] = .string(hit.kind.rawValue)
            out["similarity"] = .double(Double(hit.similarity))
            if let p = hit.probability { out["probability"] = .double((p * 10_000).rounded() / 10_000) }
            out["age"] = .int(Int64(max(0, hit.age)))
            if let entry = try await cache.entry(key: hit.key) {
                out["entry"] = .object(CacheEntryJSON.summary(entry.summary))
            }
            out["response"] = (try? JSONValue.parse(hit.response)) ?? .string(String(decoding: hit.response, as: UTF8.self))
        case .miss(let miss):
            metrics.observe(miss)
            out["hit"] = false
            out["best_similarity"] = miss.bestSimilarity.map { .double(Double($0)) } ?? .null
            out["best_probability"] = miss.bestProbability.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null
            out["rejection"] = miss.rejection.map { .string($0.description) } ?? .null
        }
        return Response.json(.object(out))
    }
}
