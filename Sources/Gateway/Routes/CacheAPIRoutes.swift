import NIOFoundationEssentialsCompat
import DejaSupport
import Foundation
import Hummingbird
import NIOCore
import SemanticCache

/// The lookup API under `/v1/cache`: the cache used directly, without the proxy. Look a prompt
/// up as the proxy would, store an answer, search by similarity, read, list, delete and purge
/// entries, count. Every route is behind ``AdminKeyMiddleware``.
struct CacheAPIRoutes: Sendable {
    let cache: SemanticCache
    let metrics: GatewayMetrics
    /// Hits served lately, for feedback that names its request.
    let recentHits: RecentHits
    /// `server.max_body_bytes`.
    let maxBodyBytes: Int
    let adminKey: AdminKeyMiddleware

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.add(middleware: adminKey)
        routes.post("search") { request, context in try await search(request, context) }
        routes.post("lookup") { request, context in try await lookUp(request, context) }
        routes.post("entries") { request, context in try await insertEntry(request, context) }
        routes.get("entries") { request, _ in try await listEntries(request) }
        routes.get("entries/{key}") { _, context in try await entry(context) }
        routes.delete("entries/{key}") { _, context in try await deleteEntry(context) }
        routes.delete("") { request, _ in try await purge(request) }
        routes.get("stats") { request, _ in try stats(request) }
        routes.post("feedback") { request, context in try await feedback(request, context) }
        return routes
    }

    /// The request's JSON body, within `server.max_body_bytes`.
    func body(_ request: inout Request) async throws -> JSONValue {
        try await RequestBody.object(&request, limit: maxBodyBytes)
    }

    /// `GET /v1/cache/entries/{key}`: one entry, prompt and answer included.
    func entry(_ context: GatewayContext) async throws -> Response {
        let key = try Self.entryKey(context)
        guard let entry = try await cache.entry(key: key) else {
            throw OpenAIError.notFound("No cache entry \(key)", code: "entry_not_found")
        }
        return Response.json(CacheEntryJSON.entry(entry))
    }

    /// `DELETE /v1/cache/entries/{key}`.
    func deleteEntry(_ context: GatewayContext) async throws -> Response {
        let key = try Self.entryKey(context)
        guard try await cache.delete(key: key) else {
            throw OpenAIError.notFound("No cache entry \(key)", code: "entry_not_found")
        }
        return Response.json(["id": .string(String(key)), "object": "cache.entry", "deleted": true])
    }

    /// `GET /v1/cache/stats`: totals, the `namespaces` (1000) busiest namespaces and the index.
    func stats(_ request: Request) throws -> Response {
        var limit = 1000
        if let given = request.uri.queryParameters["namespaces"] {
            guard let n = Int(given), n >= 0 else {
                throw OpenAIError.invalidRequest("'namespaces' must be how many namespaces to list, 0 or more", param: "namespaces")
            }
            limit = n
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same order every time, like every other answer
        let data = try encoder.encode(cache.stats.busiest(limit))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func namespaceID(_ hex: String) throws(OpenAIError) -> Digest128 {
        guard let id = Digest128(hex: hex) else {
            throw .invalidRequest("'namespace' must be a 32-digit namespace id from /v1/cache/stats", param: "namespace")
        }
        return id
    }

    static func entryKey(_ context: GatewayContext) throws(OpenAIError) -> UInt64 {
        guard let text = context.parameters.get("key"), let key = UInt64(text) else {
            throw .invalidRequest("The entry key must be a whole number", param: "key")
        }
        return key
    }
}
