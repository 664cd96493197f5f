import DejaSupport
import SemanticCache

/// The hits served lately, by request id, so that feedback naming a request (`POST
/// /v1/cache/feedback`, or `x-deja-feedback` on a client's next request) finds the entry it is
/// about and the similarity it was served at. Bounded: the oldest are forgotten first.
final class RecentHits: Sendable {
    /// One served hit.
    struct Hit: Sendable, Equatable {
        var entry: UInt64
        var similarity: Float
        var probability: Double?
        var namespace: Digest128
        /// The cache tenant of the request it answered: feedback from another tenant is refused.
        var tenant: String
        /// The prompt it answered, kept only while the pairs log is on (to write a verdict there).
        var asked: JudgedPrompt?
    }

    private struct State {
        var hits: [String: Hit] = [:]
        var order: [String] = []
        var oldest = 0
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int = 100_000) {
        self.limit = limit
    }

    func record(_ requestID: String, _ hit: Hit) {
        state.withLock { s in
            guard s.hits.updateValue(hit, forKey: requestID) == nil else { return }
            s.order.append(requestID)
            while s.hits.count > limit, s.oldest < s.order.count {
                s.hits.removeValue(forKey: s.order[s.oldest])
                s.oldest += 1
            }
            if s.oldest > 4096 && s.oldest * 2 > s.order.count {
                s.order.removeFirst(s.oldest)
                s.oldest = 0
            }
        }
    }

    func hit(_ requestID: String) -> Hit? {
        state.withLock { $0.hits[requestID] }
    }
}
