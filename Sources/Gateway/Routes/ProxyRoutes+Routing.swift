import AsyncHTTPClient
import DejaSupport
import HTTPTypes
import Logging
import NIOHTTP1

extension ProxyRoutes {
    /// A provider's answer head (200) and where it came from.
    struct Routed: Sendable {
        var response: HTTPClientResponse
        /// Calls made, retries, other deployments and fallbacks included.
        var attempts: Int
        /// The route and deployment that answered.
        var destination: ModelRouting.Destination
        /// The deployment's place, held until the answer has gone out.
        var lease: Deployment.Lease
        /// Whether the answer came from a fallback model, not the one asked for.
        var fallback: Bool
        /// `provider/model`, for `x-deja-upstream`.
        var label: String
    }

    /// Sends a cached API's request where its route says: a deployment picked by the route's
    /// strategy (skipping open breakers and full quotas), with the provider's retries; when they
    /// run out, the route's other deployments; then its fallback models in order. A 400 saying the
    /// prompt is too long goes to `context_fallback`, a content-policy refusal to
    /// `content_fallback`; another 4xx is the client's and goes back as it is. Nothing has reached
    /// the client until a 200 head is returned, so every step is safe to take.
    /// - Throws: the last failure, with `x-deja-attempts`; 429 `deployments_busy` when every
    ///   deployment was full or open.
    func sendRouted(
        _ completion: Completion, body: JSONValue, headers: HTTPFields, started: ContinuousClock.Instant, context: GatewayContext
    ) async throws(OpenAIError) -> Routed {
        var destination = completion.destination
        var asked = completion.model
        var visited: Set<String> = [destination.deployments.name]
        var fallbacks = destination.route.fallbacks
        var attempts = 0
        var lastError: OpenAIError?
        var generator = SystemRandomNumberGenerator()
        let estimate = completion.estimatedPromptTokens
            + (body["max_tokens"]?.intValue ?? body["max_completion_tokens"]?.intValue ?? body["max_output_tokens"]?.intValue ?? 0)
        let clientDeadline = completion.controls.deadline.map { started + .milliseconds(Int64($0 * 1000)) }
        func failed(_ error: OpenAIError) -> OpenAIError {
            var error = error
            error.headers["x-deja-attempts"] = String(max(attempts, 1))
            return error
        }
        routes: while true {
            var tried: [Deployment] = []
            var special: String?
            for deployment in destination.deployments.order(excluding: tried, using: &generator) {
                tried.append(deployment)
                let label = deployment.label(asked: asked)
                guard let lease = deployment.acquire(tokens: estimate, onTransition: { breakerMoved(label, $0) }) else { continue }
                var deadline = started + .milliseconds(Int64(deployment.provider.configuration.timeout * 1000))
                if let clientDeadline { deadline = min(deadline, clientDeadline) }
                guard ContinuousClock.now < deadline else {
                    throw failed(lastError ?? .upstream(.gatewayTimeout, "The request's deadline passed before a provider answered",
                                                        code: "upstream_timeout"))
                }
                let model = deployment.model ?? asked
                var path = completion.api.path
                var payload = Self.renamed(body, to: model)
                if deployment.provider.configuration.kind == .anthropic {
                    guard completion.api == .chat else {
                        throw failed(.invalidRequest(
                            "The provider '\(deployment.provider.name)' speaks Anthropic's Messages API, to which only chat completions are translated",
                            code: "unsupported_for_provider"))
                    }
                    path = "/messages"
                    payload = try AnthropicWire.messagesRequest(fromChat: payload)
                }
                let sent = ContinuousClock.now
                let response: HTTPClientResponse
                do throws(OpenAIError) {
                    let (r, n) = try await upstream.sendRetrying(
                        deployment.provider, path: path, body: payload, clientHeaders: headers,
                        requestID: context.requestID, deadline: deadline)
                    attempts += n
                    response = r
                } catch {
                    attempts += Int(error.headers["x-deja-attempts"] ?? "1") ?? 1
                    deployment.record(false, latency: nil) { breakerMoved(label, $0) }
                    lastError = error
                    continue
                }
                if response.status == .ok {
                    deployment.record(true, latency: .now - sent) { breakerMoved(label, $0) }
                    destination.provider = deployment.provider
                    destination.upstreamModel = model
                    return Routed(
                        response: response, attempts: attempts, destination: destination, lease: lease,
                        fallback: destination.deployments.name != completion.destination.deployments.name, label: label)
                }
                let status = Int(response.status.code)
                let error = await upstream.error(for: response, provider: deployment.provider)
                lastError = error
                if Upstream.isRetryable(status) {
                    deployment.record(false, latency: nil) { breakerMoved(label, $0) }
                    continue
                }
                deployment.record(nil, latency: nil) { breakerMoved(label, $0) }
                switch error.code {
                case "context_length_exceeded"?: special = destination.route.contextFallback
                case "content_policy_violation"?, "content_filter"?: special = destination.route.contentFallback
                default: break
                }
                guard let next = special, !visited.contains(next) else { throw failed(error) }
                break
            }
            // This route is done: a special fallback first, then the chain of the route asked for.
            guard let next = special ?? fallbacks.first(where: { !visited.contains($0) }),
                  let route = routing.models[next], let deployments = routing.routes[next], let first = deployments.deployments.first
            else {
                throw failed(lastError ?? OpenAIError(
                    status: .tooManyRequests,
                    message: "Every deployment of '\(completion.model)' is at its limit or has its circuit breaker open; try again shortly",
                    type: "rate_limit_error", code: "deployments_busy"))
            }
            visited.insert(next)
            fallbacks.removeAll { $0 == next }
            asked = next
            destination = ModelRouting.Destination(route: route, upstreamModel: first.model ?? next, provider: first.provider, deployments: deployments)
            context.facts.set(note: "fallback to \(next)")
            continue routes
        }
    }

    /// A breaker's change, logged once and counted.
    func breakerMoved(_ label: String, _ state: CircuitBreaker.State) {
        metrics.breaker(deployment: label, state: state.rawValue)
        switch state {
        case .open: logger.warning("circuit breaker opened: \(label) is skipped until its cool-down has passed")
        case .halfOpen: logger.notice("circuit breaker half-open: one request probes \(label)")
        case .closed: logger.notice("circuit breaker closed: \(label) answers again")
        }
    }
}
