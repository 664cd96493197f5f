import Foundation
import Logging
import SemanticCache

extension ProxyRoutes {
    /// `x-deja-feedback: <request id>=right|wrong` on a client's request: a verdict on the hit
    /// that answered that earlier request, applied in the background. Only the tenant that was
    /// served the hit can judge it: a verdict naming another tenant's request changes nothing.
    func applyFeedback(_ feedback: (requestID: String, correct: Bool), tenant: String, context: GatewayContext) {
        guard let hit = recentHits.hit(feedback.requestID), hit.tenant == tenant else {
            context.facts.set(note: "x-deja-feedback names no hit of this client's: ignored")
            return
        }
        metrics.feedback(correct: feedback.correct)
        background.run { [cache, metrics, logger] in
            do {
                let outcome = try await cache.judge(
                    entry: hit.entry, similarity: hit.similarity, probability: hit.probability, correct: feedback.correct,
                    namespace: hit.namespace, asked: hit.asked)
                if outcome?.retired == true { metrics.retired() }
            } catch {
                logger.warning("could not record feedback on entry \(hit.entry): \(error)")
            }
        }
    }
}
