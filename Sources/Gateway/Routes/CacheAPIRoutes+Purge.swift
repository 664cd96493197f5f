import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

extension CacheAPIRoutes {
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
            return Response.json(["object": "cache.purge", "namespace": .string(hex), "purged": .int(Int64(purged)), "namespaces": 1])
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
        return Response.json([
            "object": "cache.purge", "label": .string(glob), "purged": .int(Int64(purged.entries)),
            "namespaces": .int(Int64(purged.namespaces)),
        ])
    }
}
