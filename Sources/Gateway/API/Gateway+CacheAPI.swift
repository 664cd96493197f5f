import DejaSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SemanticCache
import Embedding
import NIOFoundationEssentialsCompat
import Logging

extension Gateway {
    /// The lookup API: search, insert, read and delete entries, purge a namespace, statistics.
    /// Every route needs `Authorization: Bearer <admin key>` (the variable `server.admin_key_env`).
    func addCacheRoutes(to router: Router<GatewayContext>) {
        router.post("/v1/cache/search") { request, context in
            try self.authorize(request)
            return try await self.searchCache(request, context)
        }
        router.post("/v1/cache/lookup") { request, context in
            try self.authorize(request)
            return try await self.lookUp(request, context)
        }
        router.post("/v1/cache/entries") { request, context in
            try self.authorize(request)
            return try await self.insertEntry(request, context)
        }
        router.get("/v1/cache/entries") { request, _ in
            try self.authorize(request)
            return try await self.listEntries(request)
        }
        router.get("/v1/cache/entries/{key}") { request, context in
            try self.authorize(request)
            let key = try Self.entryKey(context)
            guard let entry = try await self.cache.entry(key: key) else {
                throw OpenAIError.notFound("No cache entry \(key)", code: "entry_not_found")
            }
            return Self.json(CacheEntryJSON.entry(entry))
        }
        router.delete("/v1/cache/entries/{key}") { request, context in
            try self.authorize(request)
            let key = try Self.entryKey(context)
            guard try await self.cache.delete(key: key) else {
                throw OpenAIError.notFound("No cache entry \(key)", code: "entry_not_found")
            }
            return Self.json(["id": .string(String(key)), "object": "cache.entry", "deleted": true])
        }
        router.delete("/v1/cache") { request, _ in
            try self.authorize(request)
            return try await self.purge(request)
        }
        router.get("/v1/cache/stats") { request, _ in
            try self.authorize(request)
            var limit = 1000
            if let given = request.uri.queryParameters["namespaces"] {
                guard let n = Int(given), n >= 0 else {
                    throw OpenAIError.invalidRequest("'namespaces' must be how many namespaces to list, 0 or more", param: "namespaces")
                }
                limit = n
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // the same order every time, like every other answer
            let data = try encoder.encode(self.cache.stats.busiest(limit))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
        }
    }

    /// 401 in the OpenAI shape unless the request carries the admin key (compared in constant time).
    func authorize(_ request: Request) throws(OpenAIError) {
        guard let adminKey else {
            throw .unauthorized("The cache API is disabled: set the admin key in \(configuration.server.adminKeyEnv)")
        }
        let header = request.headers[.authorization] ?? ""
        let given = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        let a = SHA256.hash(data: Data(given.utf8))
        let b = SHA256.hash(data: Data(adminKey.utf8))
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        guard difference == 0, !given.isEmpty else {
            throw .unauthorized("Missing or wrong admin key for the cache API")
        }
    }

    /// `DELETE /v1/cache`: `?namespace=<id>` purges one namespace, `?label=<glob>` every
    /// namespace whose label (`tenant/model[/partition]`) matches, `?all=true` everything.
    func purge(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let given: [String] = ["namespace", "label", "all"].filter { query[Substring($0)] != nil }
        guard given.count == 1 else {
            throw OpenAIError.invalidRequest(
                "Say what to purge, one of: DELETE /v1/cache?namespace=<id>, ?label=<glob> (e.g. */gpt-4o*) or ?all=true",
                param: given.count > 1 ? given[1] : "namespace")
        }
        if let hex = query["namespace"].map(String.init) {
            let id = try Self.namespaceID(hex)
            let purged = try await cache.purge(namespace: id)
            return Self.json(["object": "cache.purge", "namespace": .string(hex), "purged": .int(Int64(purged)), "namespaces": 1])
        }
        let glob: String
        if let label = query["label"].map(String.init) {
            guard !label.isEmpty else { throw OpenAIError.invalidRequest("'label' must be a glob such as */gpt-4o*", param: "label") }
            glob = label
        } else {
            guard query["all"] == "true" else { throw OpenAIError.invalidRequest("'all' must be true", param: "all") }
            glob = "*"
        }
        let purged = try await cache.purge(labelsMatching: glob)
        return Self.json([
            "object": "cache.purge", "label": .string(glob), "purged": .int(Int64(purged.entries)),
            "namespaces": .int(Int64(purged.namespaces)),
        ])
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
        return Self.json([
            "object": "list", "data": .array(data), "has_more": .bool(page.more),
            "first_id": page.entries.first.map { .string(String($0.key)) } ?? .null,
            "last_id": page.entries.last.map { .string(String($0.key)) } ?? .null,
        ])
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

    func searchCache(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await readJSON(&request)
        let text = try Self.string(body, "text")
        var vector: [Float]?
        if let given = body["vector"], !given.isNull {
            guard let numbers = given.arrayValue?.compactMap(\.doubleValue), numbers.count == given.arrayValue?.count else {
                throw OpenAIError.invalidRequest("'vector' must be an array of numbers, got \(given.typeName)", param: "vector")
            }
            vector = numbers.map(Float.init)
        }
        guard text != nil || vector != nil else {
            throw OpenAIError.invalidRequest("Give a 'text' or a 'vector' to search for", param: "text")
        }
        if let vector, vector.count != cache.embedder.dimension {
            throw OpenAIError.invalidRequest(
                "'vector' must have \(cache.embedder.dimension) numbers, got \(vector.count)", param: "vector")
        }
        let k = try Self.number(body, "k", in: 1...100, "a whole number between 1 and 100", whole: true).map { Int($0) } ?? 5
        let threshold = try Self.number(body, "threshold", in: 0...1, "a number between 0 and 1").map(Float.init) ?? -1
        var namespace: Digest128?
        if let hex = try Self.string(body, "namespace") {
            namespace = try Self.namespaceID(hex)
        }
        let result: Result<[SearchMatch], CacheError>
        do throws(CacheError) {
            result = .success(try await cache.search(text: text, vector: vector, namespace: namespace, k: k, threshold: threshold))
        } catch {
            result = .failure(error)
        }
        let matches: [SearchMatch]
        switch result {
        case .success(let found):
            matches = found
        case .failure(.index(let e)):
            throw OpenAIError.invalidRequest("\(e)", param: "vector")
        case .failure(let e):
            throw e
        }
        var data: [JSONValue] = []
        for match in matches {
            var item = CacheEntryJSON.summary(match.entry)
            item["similarity"] = .double(Double(match.similarity))
            if let response = try await cache.entry(key: match.entry.key).flatMap({ try? JSONValue.parse($0.response) }),
               let text = OpenAIWire.firstText(response)
            {
                item["response_preview"] = .string(String(text.prefix(200)))
            }
            data.append(.object(item))
        }
        return Self.json(["object": "list", "data": .array(data)])
    }

    /// `POST /v1/cache/entries`: `{"prompt", "response" (text) or "response_json" (a completion),
    /// "model", "system"?, "namespace"? (partition), "ttl"?}`. The entry answers the chat request
    /// a client would send with that model, system prompt and prompt.
    func insertEntry(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await readJSON(&request)
        if CacheEntryJSON.isEntry(body) { return try await restoreEntry(body) }
        // An entry larger than cache.max_bytes is a 400, a store that fails a 503 (OpenAIError.cache).
        let entry = try await KnownAnswer(body).store(in: cache)
        return Self.json(.object(CacheEntryJSON.summary(entry.summary)), status: .created)
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
        return Self.json(.object(CacheEntryJSON.summary(entry.summary)), status: .created)
    }

    /// The chat request a lookup API body stands for: `prompt` and `model`, with an optional
    /// `system` prompt, `namespace` (the `x-deja-namespace` partition) and `tenant`; what a client
    /// would send to ask that prompt, so that entries and lookups meet the proxy's requests.
    static func plainCacheRequest(_ body: JSONValue) throws(OpenAIError) -> (request: CacheRequest, model: String, prompt: String) {
        guard let prompt = body["prompt"]?.stringValue, !prompt.isEmpty else {
            throw .invalidRequest("'prompt' must be a non-empty string", param: "prompt")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' must be a non-empty string", param: "model")
        }
        // A field of the wrong type is refused, not read as absent: a tenant or partition taken
        // for none would file the entry where other clients' lookups find it.
        let chat = CacheKeys.plainChatBody(model: model, prompt: prompt, system: try string(body, "system"))
        let request = CacheKeys.chat(
            chat, tenant: try string(body, "tenant") ?? "",
            partition: try string(body, "namespace").map { (raw) throws(OpenAIError) in
                if let problem = CacheKeys.partitionProblem(raw) { throw .invalidRequest("'namespace' \(problem)", param: "namespace") }
                return raw
            })
        return (request, model, prompt)
    }

    /// The number `body[field]` holds, `nil` when absent or null; 400 naming the field when it
    /// is not a number in `range`, or with `whole` not a whole one (`rule` says what it must be).
    static func number(
        _ body: JSONValue, _ field: String, in range: ClosedRange<Double>, _ rule: String, whole: Bool = false
    ) throws(OpenAIError) -> Double? {
        guard let given = body[field], !given.isNull else { return nil }
        guard let value = given.doubleValue, range.contains(value), !whole || value.rounded() == value else {
            throw .invalidRequest("'\(field)' must be \(rule)", param: field)
        }
        return value
    }

    /// The string `body[field]` holds, `nil` when absent or null; 400 naming the field when it
    /// holds something else.
    static func string(_ body: JSONValue, _ field: String) throws(OpenAIError) -> String? {
        guard let given = body[field], !given.isNull else { return nil }
        guard let value = given.stringValue else {
            throw .invalidRequest("'\(field)' must be a string, got \(given.typeName)", param: field)
        }
        return value
    }
}
