import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

extension CacheAPIRoutes {
    /// `POST /v1/cache/feedback`: `{"request_id": ..., "correct": false}` (a request the proxy
    /// answered from the cache) or `{"entry": "12", "similarity": 0.91, "probability": 0.93,
    /// "correct": false}` (a hit seen through the lookup API). A wrong hit raises the entry's own
    /// threshold to the probability (without one, the similarity) it was served at; an entry
    /// wrong `cache.retire_after` times is retired.
    func feedback(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await body(&request)
        guard let correct = body["correct"]?.boolValue else {
            throw OpenAIError.invalidRequest("'correct' must be true or false", param: "correct")
        }
        let key: UInt64
        let similarity: Float
        var probability: Double?
        var asked: JudgedPrompt?
        if let requestID = try RequestFields.string(body, "request_id") {
            guard let hit = recentHits.hit(requestID) else {
                throw OpenAIError.notFound(
                    "No hit of request '\(requestID)' is remembered (it missed, or was too long ago); give 'entry' and 'similarity'",
                    code: "hit_not_found")
            }
            (key, similarity, probability, asked) = (hit.entry, hit.similarity, hit.probability, hit.asked)
        } else if let entry = try RequestFields.string(body, "entry") {
            guard let k = UInt64(entry) else { throw OpenAIError.invalidRequest("'entry' must be an entry id", param: "entry") }
            key = k
            similarity = Float(try RequestFields.number(body, "similarity", in: -1...1, "the similarity of the hit, -1 to 1") ?? 1)
            probability = try RequestFields.number(body, "probability", in: 0...1, "the verifier's probability of the hit, 0 to 1")
        } else {
            throw OpenAIError.invalidRequest("Name the hit: 'request_id', or 'entry' with 'similarity'", param: "request_id")
        }
        guard let outcome = try await cache.judge(
            entry: key, similarity: similarity, probability: probability, correct: correct, asked: asked)
        else {
            throw OpenAIError.notFound("No cache entry \(key)", code: "entry_not_found")
        }
        metrics.feedback(correct: correct)
        if outcome.retired { metrics.retired() }
        return Response.json([
            "object": "cache.feedback", "entry": .string(String(key)), "correct": .bool(correct),
            "min_similarity": outcome.trust.minSimilarity.map { .double(Double($0)) } ?? .null,
            "min_probability": outcome.trust.minProbability.map { .double($0) } ?? .null,
            "wrong_hits": .int(Int64(outcome.trust.wrongHits)), "right_hits": .int(Int64(outcome.trust.rightHits)),
            "retired": .bool(outcome.retired),
        ])
    }
}
