import DejaSupport

/// Request counts and last bodies, per path.
final class RequestCounters: Sendable {
    private struct State {
        var counts: [String: Int] = [:]
        var bodies: [String: JSONValue] = [:]
        var headers: [String: [String: String]] = [:]
        var perModel: [String: Int] = [:]
        /// Requests by the `model` of their body.
        var byModel: [String: Int] = [:]
        var inFlight = 0
        var peak = 0
        var abandonedCount = 0
    }

    private let state = Mutex(State())

    func abandonStream() {
        state.withLock { s in
            s.abandonedCount += 1
        }
    }

    var abandoned: Int {
        state.withLock { s in s.abandonedCount }
    }

    func enter() {
        state.withLock { s in
            s.inFlight += 1
            s.peak = max(s.peak, s.inFlight)
        }
    }

    func leave() {
        state.withLock { s in
            s.inFlight -= 1
        }
    }

    var peakInFlight: Int {
        state.withLock { s in s.peak }
    }

    func record(_ path: String, body: JSONValue?, headers requestHeaders: [String: String]) {
        state.withLock { s in
            s.counts[path, default: 0] += 1
            if let body { s.bodies[path] = body }
            if let model = body?["model"]?.stringValue { s.byModel[model, default: 0] += 1 }
            s.headers[path] = requestHeaders
        }
    }

    /// Counts requests for `model` and returns the new count.
    func next(model: String) -> Int {
        state.withLock { s in
            s.perModel[model, default: 0] += 1
            return s.perModel[model]!
        }
    }

    func count(model: String) -> Int {
        state.withLock { $0.byModel[model] ?? 0 }
    }

    func count(_ path: String) -> Int {
        state.withLock { s in s.counts[path] ?? 0 }
    }

    func lastBody(_ path: String) -> JSONValue? {
        state.withLock { s in s.bodies[path] }
    }

    func lastHeaders(_ path: String) -> [String: String] {
        state.withLock { s in s.headers[path] ?? [:] }
    }
}
