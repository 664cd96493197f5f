import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

/// The dashboard's data that no other route has (admin key or dashboard session required):
/// `GET /v1/admin/traffic` (requests, hits, latency, savings over an hour, a day or a week; the
/// similarity of hits and near misses; the guard's refusals) and `GET /v1/admin/requests` (the
/// last requests, for the live view).
struct TrafficRoutes: Sendable {
    let traffic: TrafficRecorder
    let cache: SemanticCache
    let adminKey: AdminKeyMiddleware

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.add(middleware: adminKey)
        routes.get("/traffic") { request, _ in
            let raw = request.uri.queryParameters.get("range") ?? "hour"
            guard let range = TrafficRange(rawValue: raw) else {
                throw OpenAIError.invalidRequest("range: must be hour, day or week, got '\(raw)'", param: "range")
            }
            // With the verifier the threshold is a probability, which has no place on a similarity axis.
            let cosine = cache.decision == .cosine
            let threshold = cache.configuration.threshold ?? cache.defaultThreshold
            var report = traffic.report(range, now: Date().timeIntervalSince1970, threshold: cosine ? threshold : nil)
            if !cosine, case .object(var o) = report, case .object(var similarity)? = o["similarity"] {
                similarity["verifier_threshold"] = .double((Double(threshold) * 10_000).rounded() / 10_000)
                o["similarity"] = .object(similarity)
                report = .object(o)
            }
            return Response.json(report)
        }
        routes.get("/requests") { request, _ in
            let raw = request.uri.queryParameters.get("limit") ?? "50"
            guard let limit = Int(raw), (1...traffic.recent.capacity).contains(limit) else {
                throw OpenAIError.invalidRequest(
                    "limit: must be a whole number from 1 to \(traffic.recent.capacity), got '\(raw)'", param: "limit")
            }
            return Response.json(["object": "list", "data": .array(traffic.recent.latest(limit).map(\.json))])
        }
        return routes
    }
}
