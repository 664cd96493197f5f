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
        /// What the guards found: `dlp=email:redact=1`, `injection=0.91`.
        var guardMark: String?
        /// Metering, for the usage ledger and the settlement of limits (proxied routes only).
        var metering: Metering?
    }

    /// What the ledger and the limits need to know of a proxied request.
    struct Metering {
        var grant: Grant?
        /// Holds a slot in flight (to give back at the end).
        var holdsSlot = false
        /// Tokens admitted against the per-minute allowances.
        var reserved = 0
        /// The model whose price applies: as the provider calls the requested one.
        var priceModel: String?
        /// The model and provider that answered, once one did.
        var upstreamModel: String?
        var provider: String?
        var promptTokens = 0
        var cachedTokens = 0
        var completionTokens = 0
        var savedPromptTokens = 0
        var savedCompletionTokens = 0
    }

    private let state = Mutex(State())

    func set(model: String? = nil, cache: String? = nil, similarity: Float? = nil, upstreamMilliseconds: Double? = nil,
             prompt: String? = nil, note: String? = nil, error: String? = nil, guardMark: String? = nil)
    {
        state.withLock { s in
            if let model { s.model = model }
            if let cache { s.cache = cache }
            if let similarity { s.similarity = similarity }
            if let upstreamMilliseconds { s.upstreamMilliseconds = upstreamMilliseconds }
            if let prompt { s.prompt = prompt }
            if let note { s.note = note }
            if let error { s.error = error }
            if let guardMark { s.guardMark = s.guardMark.map { $0 + ";" + guardMark } ?? guardMark }
        }
    }

    typealias Snapshot = (
        model: String?, cache: String?, similarity: Float?, upstream: Double?, prompt: String?, note: String?, error: String?,
        guardMark: String?
    )

    /// Changes the request's metering (started by ``VirtualKeyGate``; a no-op on routes
    /// that are not metered).
    func meter(_ change: (inout Metering) -> Void) {
        state.withLock { s in
            guard s.metering != nil else { return }
            change(&s.metering!)
        }
    }

    func startMetering(_ metering: Metering) {
        state.withLock { $0.metering = metering }
    }

    var metering: Metering? {
        state.withLock { $0.metering }
    }

    /// The request's grant alone (one reference, not a copy of the whole metering).
    var grant: Grant? {
        state.withLock { $0.metering?.grant }
    }

    var snapshot: Snapshot {
        state.withLock { s in (s.model, s.cache, s.similarity, s.upstreamMilliseconds, s.prompt, s.note, s.error, s.guardMark) }
    }
}
