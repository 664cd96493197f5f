import DejaSupport
import Foundation
import Logging
import SemanticCache

extension ProxyRoutes {
    /// What a miss needs to store its answer once it has one.
    struct StoreAfterwards: Sendable {
        /// The request as its lookup worked it out (namespace, key, vector); `nil` when its answer
        /// is not to be stored (`no-store`, a fallback's answer where the route says so), so that
        /// such a request is not prepared for nothing.
        var request: PreparedRequest?
        var model: String
        var ttl: Double?
        /// For answers that come without usage (a stream the client did not ask usage for).
        var estimatedPromptTokens: Int
        /// The request's id, for the warning when storing fails.
        var requestID: String
        /// Held by a request that leads identical ones; landed once the answer is stored (or
        /// when the ticket is dropped, on every other way out).
        var flight: MissFlights.Ticket?
        /// `x-deja-cache` on the answer: `miss`, or `bypass` when the lookup was skipped.
        var cacheHeader: String
        /// A comparison of the answer with a cached one (verification, shadow mode).
        var check: AnswerCheck? = nil
        /// Calls made to the provider for this answer (`x-deja-attempts`).
        var attempts = 1
        /// The answering deployment's place, given back once the answer has gone out.
        var lease: Deployment.Lease? = nil
    }

    /// Stores `answer` in the background, after the response went out. An answer without usage
    /// (a stream the client did not ask usage for) gets an estimate (words × 4/3), so that a
    /// replay can report usage and the statistics can count tokens saved.
    func storeAnswer(_ answer: JSONValue, _ store: StoreAfterwards) {
        guard let request = store.request else { return }
        var answer = answer
        if OpenAIWire.tokens(answer) == nil, case .object(var fields) = answer {
            let prompt = Int64(store.estimatedPromptTokens)
            let completion = Int64(OpenAIWire.estimatedTokens(OpenAIWire.firstText(answer) ?? ""))
            let responses = fields["object"]?.stringValue == "response"
            fields["usage"] = [
                responses ? "input_tokens" : "prompt_tokens": .int(prompt),
                responses ? "output_tokens" : "completion_tokens": .int(completion), "total_tokens": .int(prompt + completion),
            ]
            answer = .object(fields)
        }
        let (promptTokens, completionTokens) = OpenAIWire.tokens(answer) ?? (0, 0)
        let data = answer.canonicalData
        let complete = answer
        background.run { [cache, logger, metrics, storeFailures] in
            if let check = store.check, !(await self.check(complete, check, namespace: request.namespace.id)) {
                store.flight?.land()
                return
            }
            do {
                try await cache.insert(
                    request, response: data, model: store.model, promptTokens: promptTokens,
                    completionTokens: completionTokens, ttl: store.ttl)
                storeFailures.succeeded(logger)
            } catch CacheError.invalidEntry(let reason) {
                // This answer's own problem (larger than the whole cache).
                logger.warning(
                    "could not cache an answer", metadata: ["request_id": .string(store.requestID), "error": .string(reason)])
            } catch {
                // A store or an embedder that is down fails every miss the same way until it
                // recovers: warned once a minute.
                if case CacheError.storeFailed = error { metrics.storeFailure(during: "store_answer") }
                storeFailures.failed(error, logger)
            }
            store.flight?.land()
        }
    }
}
