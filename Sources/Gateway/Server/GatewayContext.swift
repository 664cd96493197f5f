import Foundation
public import Hummingbird
import Logging

/// Per-request facts gathered by handlers for the request log line and the metrics. A class,
/// because the context is a value that handlers cannot hand back to the middleware.
public final class RequestFacts: @unchecked Sendable {
    private let lock = NSLock()
    private var _model: String?
    private var _cache: String?
    private var _similarity: Float?
    private var _upstreamMilliseconds: Double?
    private var _prompt: String?
    private var _note: String?
    private var _error: String?

    func set(model: String? = nil, cache: String? = nil, similarity: Float? = nil, upstreamMilliseconds: Double? = nil,
             prompt: String? = nil, note: String? = nil, error: String? = nil)
    {
        lock.lock()
        defer { lock.unlock() }
        if let model { _model = model }
        if let cache { _cache = cache }
        if let similarity { _similarity = similarity }
        if let upstreamMilliseconds { _upstreamMilliseconds = upstreamMilliseconds }
        if let prompt { _prompt = prompt }
        if let note { _note = note }
        if let error { _error = error }
    }

    typealias Snapshot = (
        model: String?, cache: String?, similarity: Float?, upstream: Double?, prompt: String?, note: String?, error: String?
    )

    var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return (_model, _cache, _similarity, _upstreamMilliseconds, _prompt, _note, _error)
    }
}

/// The request context of Deja's routes: Hummingbird's core context, the request id and the
/// facts for the log line.
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's `x-request-id` when it sent a usable one, else a new random id.
    public var requestID: String
    public let facts: RequestFacts

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = ""
        facts = RequestFacts()
    }
}
