import Hummingbird
import HTTPTypes

/// The door of the proxied routes: finds the request's key (`server.auth: keys`), takes its slot
/// in flight and one request of its per-minute allowances, and puts the `x-ratelimit-*` headers
/// on every answer, refusals included. The client's key stops here: it never goes upstream.
/// With `server.auth: none` it only starts the request's metering for the usage ledger.
struct VirtualKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    let governance: Governance
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        context.facts.startMetering(RequestFacts.Metering())
        guard governance.auth == .keys else { return try await next(request, context) }
        let grant: Grant?
        do {
            grant = try governance.authenticate(
                authorization: request.headers[.authorization], apiKey: request.headers[Self.apiKey])
        } catch {
            metrics.governanceRefusal("auth")
            throw error
        }
        guard let grant else { return try await next(request, context) }
        context.facts.meter { $0.grant = grant }
        do {
            try governance.admitRequest(grant)
        } catch {
            metrics.governanceRefusal(error.headers["x-deja-refusal"] ?? "requests")
            throw withHeaders(error, grant)
        }
        context.facts.meter { $0.holdsSlot = true }
        var headers = request.headers
        headers[.authorization] = nil
        headers[Self.apiKey] = nil
        var head = request.head
        head.headerFields = headers
        let forwarded = Request(head: head, body: request.body)
        do {
            var response = try await next(forwarded, context)
            for (name, value) in governance.rateHeaders(grant) {
                if let field = HTTPField.Name(name) { response.headers[field] = value }
            }
            return response
        } catch let error as OpenAIError {
            throw withHeaders(error, grant)
        }
    }

    private func withHeaders(_ error: OpenAIError, _ grant: Grant) -> OpenAIError {
        var error = error
        for (name, value) in governance.rateHeaders(grant) { error.headers[name] = value }
        return error
    }

    static let apiKey = HTTPField.Name("x-api-key")!
}
