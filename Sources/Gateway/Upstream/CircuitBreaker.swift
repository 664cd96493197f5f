/// The state of one deployment's circuit breaker (``BreakerConfiguration``): `closed` lets
/// requests through and counts failures in a row; `open` skips the deployment until its cool-down
/// has passed; `halfOpen` lets one probe through, whose outcome closes or reopens it.
struct CircuitBreaker: Sendable {
    enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    let configuration: BreakerConfiguration
    private(set) var state = State.closed
    private(set) var failures = 0
    private var openedAt: ContinuousClock.Instant?
    private var probing = false

    init(_ configuration: BreakerConfiguration) {
        self.configuration = configuration
    }

    /// Whether a request may go now; a request let through a half-open breaker is its probe.
    /// - Returns: the state it moved to, when it moved.
    mutating func admit(now: ContinuousClock.Instant) -> (allowed: Bool, moved: State?) {
        switch state {
        case .closed:
            return (true, nil)
        case .open:
            guard let openedAt, now - openedAt >= .milliseconds(Int64(configuration.cooldown * 1000)) else { return (false, nil) }
            state = .halfOpen
            probing = true
            return (true, .halfOpen)
        case .halfOpen:
            guard !probing else { return (false, nil) }
            probing = true
            return (true, nil)
        }
    }

    /// A request that was admitted has ended: `true` a success, `false` a failure (a retryable
    /// status once retries ran out, a timeout, a refused connection), `nil` neither (a 4xx of
    /// the client's own making).
    /// - Returns: the state it moved to, when it moved.
    mutating func record(_ success: Bool?, now: ContinuousClock.Instant) -> State? {
        probing = false
        switch (success, state) {
        case (true?, .closed):
            failures = 0
            return nil
        case (true?, _):
            (state, failures, openedAt) = (.closed, 0, nil)
            return .closed
        case (false?, .closed):
            failures += 1
            guard configuration.failures > 0, failures >= configuration.failures else { return nil }
            (state, openedAt) = (.open, now)
            return .open
        case (false?, _):
            failures += 1
            (state, openedAt) = (.open, now)
            return .open
        case (nil, .halfOpen):
            // The probe told nothing: let the next request probe.
            return nil
        case (nil, _):
            return nil
        }
    }
}
