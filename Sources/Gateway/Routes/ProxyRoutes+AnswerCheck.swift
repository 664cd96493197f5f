import DejaSupport
import Foundation
import Logging
import SemanticCache

extension ProxyRoutes {
    /// A comparison to make once the provider's answer to a forwarded request is in.
    enum AnswerCheck: Sendable {
        /// A would-be semantic hit chosen for verification: the verdict goes to the entry.
        case verify(entry: UInt64, similarity: Float, probability: Double?, cached: Data, asked: JudgedPrompt?)
        /// Shadow mode: the verdict goes to the shadow log; `cached` is the answer the cache
        /// would have compared (none when it had no candidate).
        case shadow(ShadowLog.Record, cached: Data?)
    }

    /// The prompt a semantic hit answered, for the pairs log when it is on.
    func asked(_ prepared: PreparedRequest, _ hit: CacheHit) -> JudgedPrompt? {
        guard cache.logsPairs, let prompt = prepared.request.prompt else { return nil }
        return JudgedPrompt(prompt: prompt, model: prepared.request.model, namespace: hit.namespace)
    }

    /// Compares `answer` with the cached one and records the verdict; returns whether the answer
    /// should still be stored: a verified entry's fresh answer only when it disagreed (the prompt
    /// is then a question of its own), a shadow lookup's unless the exact request was cached.
    func check(_ answer: JSONValue, _ check: AnswerCheck, namespace: Digest128) async -> Bool {
        switch check {
        case .verify(let entry, let similarity, let probability, let cached, let asked):
            let verdict = await AnswerComparison.compare(
                cached: cached, fresh: answer, embedder: cache.embedder, agreement: configuration.cache.answerAgreement)
            metrics.verification(agree: verdict.agree)
            do {
                let outcome = try await cache.judge(
                    entry: entry, similarity: similarity, probability: probability, correct: verdict.agree, namespace: namespace,
                    source: .verification, asked: asked)
                if outcome?.retired == true { metrics.retired() }
            } catch {
                logger.warning("could not record a verification of entry \(entry): \(error)")
            }
            return !verdict.agree
        case .shadow(var record, let cached):
            if let cached {
                let verdict = await AnswerComparison.compare(
                    cached: cached, fresh: answer, embedder: cache.embedder, agreement: configuration.cache.answerAgreement)
                record.agree = verdict.agree
                record.answerSimilarity = verdict.similarity
                metrics.shadow(kind: record.kind, agree: verdict.agree)
            } else {
                metrics.shadow(kind: record.kind, agree: nil)
            }
            shadowLog?.record(record)
            return record.kind != "exact"
        }
    }
}
