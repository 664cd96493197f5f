import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

extension CacheAPIRoutes {
    /// `POST /v1/cache/entries`: `{"prompt", "response" (text) or "response_json" (a completion),
    /// "model", "system"?, "namespace"? (partition), "ttl"?}`. The entry answers the chat request
    /// a client would send with that model, system prompt and prompt.
    func insertEntry(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await body(&request)
        if CacheEntryJSON.isEntry(body) { return try await restoreEntry(body) }
        // An entry larger than cache.max_bytes is a 400, a store that fails a 503 (OpenAIError.cache).
        let entry = try await KnownAnswer(body).store(in: cache)
        return Response.json(.object(CacheEntryJSON.summary(entry.summary)), status: .created)
    }

    /// `POST /v1/cache/entries` with an entry as `GET /v1/cache/entries/{key}` shows it and
    /// `deja cache export` writes it: stored in its namespace with its times and counts, under a
    /// new id (201), or 400 `entry_expired` when it has expired.
    func restoreEntry(_ body: JSONValue) async throws -> Response {
        let exported = try CacheEntryJSON.restorable(body)
        guard let entry = try await cache.restore(exported) else {
            throw OpenAIError.invalidRequest(
                "The entry expired at \(Int64(exported.expiresAt?.timeIntervalSince1970 ?? 0)); nothing was stored",
                param: "expires_at", code: "entry_expired")
        }
        return Response.json(.object(CacheEntryJSON.summary(entry.summary)), status: .created)
    }

    /// `GET /v1/cache/entries`: entries newest first, OpenAI-style pages (`limit` 1 to 100,
    /// default 20; `after` the last id of the previous page), of one `namespace`, of the
    /// namespaces whose `label` matches a glob, or of all.
    func listEntries(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = 20
        if let given = query["limit"] {
            guard let n = Int(given), (1...100).contains(n) else {
                throw OpenAIError.invalidRequest("'limit' must be between 1 and 100", param: "limit")
            }
            limit = n
        }
        var after: UInt64?
        if let given = query["after"] {
            guard let key = UInt64(given) else { throw OpenAIError.invalidRequest("'after' must be an entry id", param: "after") }
            after = key
        }
        var namespaces: Set<Digest128>?
        if let hex = query["namespace"].map(String.init) {
            namespaces = [try Self.namespaceID(hex)]
        } else if let label = query["label"].map(String.init) {
            namespaces = Set(cache.namespaces(matching: label).map(\.id))
        }
        let page = try await cache.entries(in: namespaces, before: after, limit: limit)
        let data = page.entries.map { JSONValue.object(CacheEntryJSON.summary($0)) }
        return Response.json([
            "object": "list", "data": .array(data), "has_more": .bool(page.more),
            "first_id": page.entries.first.map { .string(String($0.key)) } ?? .null,
            "last_id": page.entries.last.map { .string(String($0.key)) } ?? .null,
        ])
    }
}
