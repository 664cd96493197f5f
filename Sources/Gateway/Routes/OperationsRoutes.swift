import DejaSupport
import Hummingbird
import NIOCore
import SemanticCache

/// What operators and load balancers ask: `GET /healthz` (the process answers), `GET /readyz`
/// (the cache store answers too) and `GET /metrics` (Prometheus text).
struct OperationsRoutes: Sendable {
    let cache: SemanticCache
    let metrics: GatewayMetrics

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        routes.get("/readyz") { _, _ in await readiness() }
        routes.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return routes
    }

    /// 200 while the store answers a read, 503 with its error otherwise.
    func readiness() async -> Response {
        do {
            _ = try await cache.store.metadata("embedder")
            return Response.json(["status": "ready", "entries": .int(Int64(cache.size.entries))])
        } catch {
            return Response.json(["status": "unavailable", "error": .string(error.description)], status: .serviceUnavailable)
        }
    }
}
