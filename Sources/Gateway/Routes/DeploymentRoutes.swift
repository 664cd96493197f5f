import DejaSupport
import Hummingbird

/// `GET /v1/admin/deployments`: each model route's deployments with their circuit breaker's
/// state, requests in flight and recent latency (admin key required).
struct DeploymentRoutes: Sendable {
    let routing: ModelRouting
    let adminKey: AdminKeyMiddleware

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.add(middleware: adminKey)
        routes.get("/deployments") { _, _ in Response.json(["object": "list", "data": .array(list())]) }
        return routes
    }

    func list() -> [JSONValue] {
        routing.routes.sorted { $0.key < $1.key }.flatMap { name, route in
            route.deployments.map { d -> JSONValue in
                let s = d.snapshot
                return [
                    "model": .string(name), "provider": .string(d.provider.name), "upstream_model": d.model.map(JSONValue.string) ?? .null,
                    "weight": .double(d.weight), "strategy": .string(route.strategy.rawValue), "state": .string(s.state.rawValue),
                    "consecutive_failures": .int(Int64(s.failures)), "in_flight": .int(Int64(s.inFlight)),
                    "latency_ms": s.latency.map { .double(($0 * 100).rounded() / 100) } ?? .null,
                    "rpm": .int(Int64(d.rpm)), "tpm": .int(Int64(d.tpm)),
                    "requests": .int(Int64(s.requests)), "failures": .int(Int64(s.failed)),
                ]
            }
        }
    }
}
