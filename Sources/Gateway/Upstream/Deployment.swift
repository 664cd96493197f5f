import DejaSupport
import Foundation

/// One deployment of a model at run time: its provider and model name there, its weight, its
/// circuit breaker, its per-minute quota, its requests in flight and an EWMA of its time to the
/// answer's head.
final class Deployment: Sendable {
    let provider: UpstreamProvider
    /// The model's name at the provider; `nil`: the name the client asked for.
    let model: String?
    let weight: Double
    let rpm: Int
    let tpm: Int

    private struct State {
        var breaker: CircuitBreaker
        var inFlight = 0
        /// Answers and failures recorded (the dashboard's error rate).
        var answered = 0
        var failed = 0
        /// Milliseconds to the answer's head, smoothed (`nil` until measured).
        var latency: Double?
        var requests: TokenBucket
        var tokens: TokenBucket
    }

    private let state: Mutex<State>

    init(provider: UpstreamProvider, configuration: DeploymentConfiguration) {
        self.provider = provider
        model = configuration.model
        weight = configuration.weight
        rpm = configuration.rpm
        tpm = configuration.tpm
        let now = Date().timeIntervalSince1970
        state = Mutex(State(
            breaker: CircuitBreaker(provider.configuration.breaker),
            requests: TokenBucket(capacity: configuration.rpm, now: now), tokens: TokenBucket(capacity: configuration.tpm, now: now)))
    }

    /// `provider/model` as `x-deja-upstream` and the admin route show it.
    func label(asked: String) -> String { "\(provider.name)/\(model ?? asked)" }

    /// Takes a place for one request if the breaker lets it through and the quota has room;
    /// `nil` when the deployment is to be skipped. The lease gives the place back when dropped.
    func acquire(tokens estimate: Int, onTransition: (CircuitBreaker.State) -> Void) -> Lease? {
        let now = Date().timeIntervalSince1970
        let (lease, moved) = state.withLock { s -> (Lease?, CircuitBreaker.State?) in
            if rpm > 0 {
                s.requests.refill(capacity: rpm, now: now)
                guard s.requests.level >= 1 else { return (nil, nil) }
            }
            if tpm > 0 {
                s.tokens.refill(capacity: tpm, now: now)
                guard s.tokens.level >= Double(min(estimate, tpm)) else { return (nil, nil) }
            }
            let (allowed, moved) = s.breaker.admit(now: .now)
            guard allowed else { return (nil, moved) }
            if rpm > 0 { s.requests.level -= 1 }
            if tpm > 0 { s.tokens.level -= Double(estimate) }
            s.inFlight += 1
            return (Lease(self, estimate: tpm > 0 ? estimate : nil), moved)
        }
        if let moved { onTransition(moved) }
        return lease
    }

    /// The outcome of a request at its answer's head (see ``CircuitBreaker/record(_:now:)``).
    func record(_ success: Bool?, latency: Duration?, onTransition: (CircuitBreaker.State) -> Void) {
        let moved = state.withLock { s -> CircuitBreaker.State? in
            if success == true, let latency {
                let ms = Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15
                s.latency = s.latency.map { 0.8 * $0 + 0.2 * ms } ?? ms
            }
            if let success {
                s.answered += 1
                if !success { s.failed += 1 }
            }
            return s.breaker.record(success, now: .now)
        }
        if let moved { onTransition(moved) }
    }

    fileprivate func release() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Puts right what `acquire` took from the token quota for a guess: the estimate covers the
    /// prompt only, the provider's count covers the answer too. A bucket may go below zero, and
    /// the deployment is skipped until it has refilled.
    fileprivate func settle(estimate: Int, actual: Int) {
        guard tpm > 0 else { return }
        let now = Date().timeIntervalSince1970
        state.withLock { s in
            s.tokens.refill(capacity: tpm, now: now)
            s.tokens.level = min(Double(tpm), s.tokens.level + Double(estimate - actual))
        }
    }

    /// What `GET /v1/admin/deployments` shows.
    var snapshot: (state: CircuitBreaker.State, failures: Int, inFlight: Int, latency: Double?, requests: Int, failed: Int) {
        state.withLock { ($0.breaker.state, $0.breaker.failures, $0.inFlight, $0.latency, $0.answered, $0.failed) }
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
    var latency: Double? { state.withLock { $0.latency } }

    /// A request's place at a deployment, given back when the answer has gone out (a stream's
    /// last byte) and the lease is dropped.
    final class Lease: Sendable {
        let deployment: Deployment
        /// What was taken from the token quota; `nil` once settled, or with no `tpm`.
        private let estimate: Mutex<Int?>

        init(_ deployment: Deployment, estimate: Int?) {
            self.deployment = deployment
            self.estimate = Mutex(estimate)
        }

        /// Settles the token quota with the request's tokens as the provider counted them
        /// (prompt and answer); once per lease.
        func settle(tokens: Int) {
            guard let taken = estimate.withLock({ e in defer { e = nil }; return e }) else { return }
            deployment.settle(estimate: taken, actual: tokens)
        }

        deinit { deployment.release() }
    }
}
