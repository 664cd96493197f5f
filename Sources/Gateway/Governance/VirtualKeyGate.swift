import Hummingbird
import HTTPTypes

/// The door of the proxied routes: finds the request's key (`server.auth: keys`), takes its slot
/// in flight and one request of its per-minute allowances, and puts the `x-ratelimit-*` headers
/// on every answer, refusals included. The client's key stops here: it never goes upstream.
/// With `server.auth: none` it only starts the request's metering for the usage ledger.
///
/// Each proxied route's handler goes through it (``ProxyRoutes/routes``) rather than it being a
/// middleware of the route collection: under NIO's executor each layer of Hummingbird middleware
/// cost about six task switches a request (counted with a uprobe), a call of our own none.
struct VirtualKeyGate: Sendable {
    let governance: Governance
    let metrics: GatewayMetrics

    /// Admits `request` and runs `next` with it, or throws the refusal (with the rate headers).
    func admit(_ request: Request, _ context: GatewayContext, then next: (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        guard governance.auth == .keys else {
            context.facts.startMetering(RequestFacts.Metering())
            return try await next(request, context)
        }
        let grant: Grant
        do {
            grant = try governance.authenticate(
                authorization: request.headers[.authorization], apiKey: request.headers[Self.apiKey])
        } catch {
            context.facts.startMetering(RequestFacts.Metering())
            metrics.governanceRefusal("auth")
            throw error
        }
        do {
            try await governance.admitRequest(grant)
        } catch {
            context.facts.startMetering(RequestFacts.Metering(grant: grant))
            metrics.governanceRefusal(error.headers["x-deja-refusal"] ?? "requests")
            throw withHeaders(error, grant)
        }
        context.facts.startMetering(RequestFacts.Metering(grant: grant, holdsSlot: true))
        // The key is not taken off the request: `Upstream` never forwards a client's key under
        // `server.auth: keys`, and copying the head costs more than the rest of this check.
        do {
            var response = try await next(request, context)
            governance.addRateHeaders(grant, to: &response.headers)
            return response
        } catch let error as OpenAIError {
            throw withHeaders(error, grant)
        }
    }

    private func withHeaders(_ error: OpenAIError, _ grant: Grant) -> OpenAIError {
        var error = error
        var fields = HTTPFields()
        governance.addRateHeaders(grant, to: &fields)
        for field in fields { error.headers[field.name.canonicalName] = field.value }
        return error
    }

    static let apiKey = HTTPField.Name("x-api-key")!
}
