import AsyncHTTPClient
import DejaSupport
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

extension Upstream {
    /// ``send(_:method:path:body:clientHeaders:requestID:timeout:)`` with the provider's retries:
    /// a 408, 429 or 5xx answer, a timeout or a refused connection is tried again (up to
    /// `providers.*.retries` more times) after a backoff with full jitter, or as long as the
    /// provider's `retry-after-ms`/`retry-after` says, while `deadline` allows. Nothing has reached
    /// the client yet: a stream is only passed on once its head says 200.
    /// - Returns: the last response (a failure one when retries ran out) and the attempts made.
    /// - Throws: the last failure to get a response, with `x-deja-attempts`.
    func sendRetrying(
        _ provider: UpstreamProvider, path: String, body: JSONValue, clientHeaders: HTTPFields, requestID: String,
        deadline: ContinuousClock.Instant
    ) async throws(OpenAIError) -> (response: HTTPClientResponse, attempts: Int) {
        let retries = provider.configuration.retries
        var attempt = 0
        while true {
            attempt += 1
            let remaining = Self.seconds(deadline - .now)
            do {
                let response = try await send(
                    provider, path: path, body: body, clientHeaders: clientHeaders, requestID: requestID,
                    timeout: max(0.001, remaining))
                let status = Int(response.status.code)
                guard attempt <= retries, Self.isRetryable(status),
                      let wait = backoff(provider, attempt: attempt, headers: response.headers, deadline: deadline)
                else { return (response, attempt) }
                // The failed answer's body is read and dropped, so that its connection is reused.
                _ = try? await response.body.collect(upTo: 1 << 20)
                metrics.upstreamRetry(provider: provider.name, reason: status == 429 ? "rate_limited" : "status")
                try? await Task.sleep(for: wait)
            } catch {
                var error = error
                guard attempt <= retries, let wait = backoff(provider, attempt: attempt, headers: nil, deadline: deadline) else {
                    error.headers["x-deja-attempts"] = String(attempt)
                    throw error
                }
                metrics.upstreamRetry(provider: provider.name, reason: error.status == .gatewayTimeout ? "timeout" : "unreachable")
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// 408, 429 and every 5xx: what a later attempt may not meet again.
    static func isRetryable(_ status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500
    }

    /// How long to wait before attempt `attempt + 1`; `nil` when that would pass `deadline`.
    func backoff(
        _ provider: UpstreamProvider, attempt: Int, headers: HTTPHeaders?, deadline: ContinuousClock.Instant
    ) -> Duration? {
        var seconds: Double
        if let ms = headers?.first(name: "retry-after-ms").flatMap(Double.init), ms >= 0 {
            seconds = ms / 1000
        } else if let s = headers?.first(name: "retry-after").flatMap(Double.init), s >= 0 {
            seconds = s
        } else {
            let ceiling = min(10, Double(provider.configuration.retryBackoffMs) / 1000 * pow(2, Double(attempt - 1)))
            seconds = Double.random(in: 0...ceiling)
        }
        seconds = min(seconds, 60)
        let wait = Duration.milliseconds(Int64(seconds * 1000))
        return ContinuousClock.now + wait < deadline ? wait : nil
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
