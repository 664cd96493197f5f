import DejaSupport
import Foundation
public import Hummingbird
import Logging

/// Per-request facts gathered by handlers for the request log line and the metrics. A class,
/// because the context is a value that handlers cannot hand back to the middleware.
public final class RequestFacts: Sendable {
    private struct State {
        var model: String?
        var cache: String?
        var similarity: Float?
        var upstreamMilliseconds: Double?
        var prompt: String?
        var note: String?
        var error: String?
    }

    private let state = Mutex(State())

    func set(model: String? = nil, cache: String? = nil, similarity: Float? = nil, upstreamMilliseconds: Double? = nil,
             prompt: String? = nil, note: String? = nil, error: String? = nil)
    {
        state.withLock { s in
            if let model { s.model = model }
            if let cache { s.cache = cache }
            if let similarity { s.similarity = similarity }
            if let upstreamMilliseconds { s.upstreamMilliseconds = upstreamMilliseconds }
            if let prompt { s.prompt = prompt }
            if let note { s.note = note }
            if let error { s.error = error }
        }
    }

    typealias Snapshot = (
        model: String?, cache: String?, similarity: Float?, upstream: Double?, prompt: String?, note: String?, error: String?
    )

    var snapshot: Snapshot {
        state.withLock { s in (s.model, s.cache, s.similarity, s.upstreamMilliseconds, s.prompt, s.note, s.error) }
    }
}
