import DejaSupport
import SemanticCache
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The admin API under `/v1/admin`: keys, tenants and usage. Every route is behind
/// ``AdminKeyMiddleware``; a Deja key is refused here as any wrong admin key is. A change is
/// written to the governance store, then the gateway's key table is reloaded, so that it holds
/// from the next request on.
struct AdminRoutes: Sendable {
    let governance: Governance
    let maxBodyBytes: Int
    let adminKey: AdminKeyMiddleware

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.add(middleware: adminKey)
        routes.post("keys") { request, _ in try await createKey(request) }
        routes.get("keys") { request, _ in try await listKeys(request) }
        routes.get("keys/{id}") { _, context in try await showKey(context.parameters.require("id")) }
        routes.patch("keys/{id}") { request, context in try await updateKey(context.parameters.require("id"), request) }
        routes.post("keys/{id}/revoke") { _, context in try await revokeKey(context.parameters.require("id")) }
        routes.post("keys/{id}/rotate") { request, context in try await rotateKey(context.parameters.require("id"), request) }
        routes.post("tenants") { request, _ in try await createTenant(request) }
        routes.get("tenants") { _, _ in try await listTenants() }
        routes.get("tenants/{id}") { _, context in try await showTenant(context.parameters.require("id")) }
        routes.patch("tenants/{id}") { request, context in try await updateTenant(context.parameters.require("id"), request) }
        routes.delete("tenants/{id}") { _, context in try await deleteTenant(context.parameters.require("id")) }
        routes.get("usage") { request, _ in try await usage(request) }
        return routes
    }

    var administration: KeyAdministration { governance.administration }

    func createKey(_ request: Request) async throws -> Response {
        let spec = try await decode(KeySpec.self, request, fields: Self.keyFields)
        let (key, secret) = try await run { try await administration.createKey(spec) }
        return try Self.json(KeyView(key, now: governance.clock.now(), secret: secret), status: .created)
    }

    func listKeys(_ request: Request) async throws -> Response {
        let tenant = request.uri.queryParameters.get("tenant")
        let keys = try await run {
            try await governance.ledger.flush()
            return try await administration.keyViews(tenant: tenant)
        }
        return try Self.json(KeyList(data: keys))
    }

    func showKey(_ id: String) async throws -> Response {
        let key = try await run {
            try await governance.ledger.flush()
            return try await administration.keyView(id)
        }
        return try Self.json(key)
    }

    func updateKey(_ id: String, _ request: Request) async throws -> Response {
        let spec = try await decode(KeySpec.self, request, fields: Self.keyFields)
        let key = try await run { try await administration.updateKey(id, spec) }
        return try Self.json(KeyView(key, now: governance.clock.now()))
    }

    func revokeKey(_ id: String) async throws -> Response {
        let key = try await run { try await administration.revokeKey(id) }
        return try Self.json(KeyView(key, now: governance.clock.now()))
    }

    func rotateKey(_ id: String, _ request: Request) async throws -> Response {
        let spec = try await decode(Rotation.self, request, fields: ["grace_seconds"], emptyAllowed: true)
        let (key, secret) = try await run { try await administration.rotateKey(id, grace: spec.graceSeconds ?? 3_600) }
        return try Self.json(KeyView(key, now: governance.clock.now(), secret: secret), status: .created)
    }

    func createTenant(_ request: Request) async throws -> Response {
        let spec = try await decode(TenantSpec.self, request, fields: Self.tenantFields)
        let tenant = try await run { try await administration.createTenant(spec) }
        return try Self.json(TenantView(tenant, keys: 0), status: .created)
    }

    func listTenants() async throws -> Response {
        try Self.json(TenantList(data: try await run {
            try await governance.ledger.flush()
            return try await administration.tenantViews()
        }))
    }

    func showTenant(_ id: String) async throws -> Response {
        let views = try await run {
            try await governance.ledger.flush()
            return try await administration.tenantViews()
        }
        guard let view = views.first(where: { $0.id == id }) else { throw OpenAIError.notFound("No tenant '\(id)'") }
        return try Self.json(view)
    }

    func updateTenant(_ id: String, _ request: Request) async throws -> Response {
        let spec = try await decode(TenantSpec.self, request, fields: Self.tenantFields)
        _ = try await run { try await administration.updateTenant(id, spec) }
        return try await showTenant(id)
    }

    func deleteTenant(_ id: String) async throws -> Response {
        try await run { try await administration.deleteTenant(id) }
        return Response.json(["id": .string(id), "object": "deja.tenant", "deleted": true])
    }

    /// `GET /v1/admin/usage?by=key|tenant|model|day|hour&since=7d`: the ledger summed, rows
    /// still waiting to be written included.
    func usage(_ request: Request) async throws -> Response {
        let query = try Self.usageQuery(
            by: request.uri.queryParameters.get("by"), since: request.uri.queryParameters.get("since"),
            now: governance.clock.now())
        do {
            try await governance.ledger.flush()
            return try Self.json(UsageList(data: try await governance.store.usage(query)))
        } catch {
            throw OpenAIError(
                status: .serviceUnavailable, message: "The governance store failed: \(error)", type: "server_error",
                code: "governance_store_unavailable")
        }
    }

    /// The query of `by` and `since` (`7d` when absent).
    static func usageQuery(by: String?, since: String?, now: Date) throws(OpenAIError) -> UsageQuery {
        var grouping: UsageQuery.Grouping?
        if let by {
            guard let g = UsageQuery.Grouping(rawValue: by) else {
                throw .invalidRequest("by: must be one of key, tenant, model, day, hour; got '\(by)'", param: "by")
            }
            grouping = g
        }
        guard let seconds = UsageQuery.seconds(since ?? "7d") else {
            throw .invalidRequest("since: must be a span such as 7d, 12h, 30m or 90s; got '\(since ?? "")'", param: "since")
        }
        return UsageQuery(by: grouping, since: now.timeIntervalSince1970 - seconds)
    }

    // MARK: Plumbing

    static let keyFields: Set<String> = [
        "tenant", "name", "cache_scope", "metadata", "expires_at", "expires_in", "models", "rpm", "tpm", "max_concurrent",
        "budget_usd", "budget_period",
    ]
    static let tenantFields: Set<String> = [
        "id", "cache_scope", "metadata", "expires_at", "models", "rpm", "tpm", "max_concurrent", "budget_usd", "budget_period",
    ]

    struct Rotation: Codable {
        var graceSeconds: Double?
        enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }
    }

    struct KeyList: Codable {
        var object = "list"
        var data: [KeyView]
    }

    struct TenantList: Codable {
        var object = "list"
        var data: [TenantView]
    }

    struct UsageList: Codable {
        var object = "list"
        var data: [UsageSummary]
    }

    /// The body as `T`, refusing fields it does not know (a misspelt limit would otherwise be
    /// silently no limit).
    func decode<T: Decodable>(_ type: T.Type, _ request: Request, fields: Set<String>, emptyAllowed: Bool = false)
        async throws -> T
    {
        var request = request
        let body: JSONValue
        if emptyAllowed, request.headers[.contentLength] == "0" || request.headers[.contentType] == nil {
            body = [:]
        } else {
            body = try await RequestBody.object(&request, limit: maxBodyBytes)
        }
        let unknown = (body.objectValue?.keys.map { $0 } ?? []).filter { !fields.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw OpenAIError.invalidRequest(
                "Unknown field(s) \(unknown.joined(separator: ", ")); known: \(fields.sorted().joined(separator: ", "))",
                param: unknown[0])
        }
        do {
            return try GovernanceJSON.decoder.decode(T.self, from: body.canonicalData)
        } catch let error as DecodingError {
            throw OpenAIError.invalidRequest("The request body is not valid: \(error.readableDescription)")
        }
    }

    /// Runs an administrative change and reloads the key table; the store's and the request's
    /// problems become OpenAI errors.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            try await governance.reload()
            return value
        } catch let error as GovernanceError {
            switch error {
            case .invalid(let message): throw OpenAIError.invalidRequest(message)
            case .notFound(let message): throw OpenAIError.notFound(message)
            case .store(let message):
                throw OpenAIError(status: .serviceUnavailable, message: message, type: "server_error", code: "governance_store_unavailable")
            }
        } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError(
                status: .serviceUnavailable, message: "The governance store failed: \(error)", type: "server_error",
                code: "governance_store_unavailable")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try GovernanceJSON.encoder.encode(value))))
    }
}
