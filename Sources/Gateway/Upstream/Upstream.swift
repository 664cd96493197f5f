import DejaSupport
import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SemanticCache

/// Calls providers with AsyncHTTPClient and turns every failure into the OpenAI error a client
/// should see: a 5xx or unreadable answer is 502, a timeout 504, a refused connection 502, a
/// 4xx or 429 is passed through with the provider's message.
struct Upstream: Sendable {
    let client: HTTPClient
    let metrics: GatewayMetrics
    /// Whether a client's own `Authorization` may go to a provider that has no key of its own:
    /// not with `server.auth: keys`, where it holds the client's Deja key.
    var forwardsClientKeys = true

    /// Sends `body` to `path` of `provider` (`POST` unless `method` says otherwise; no body for
    /// `nil`), with the client's headers that the provider should see
    /// (`ForwardedHeaders.outgoing`); returns the response with its body not yet read. The call
    /// gives up after `timeout` seconds (the provider's own by default).
    func send(
        _ provider: UpstreamProvider, method: NIOHTTP1.HTTPMethod = .POST, path: String, body: JSONValue?,
        clientHeaders: HTTPFields, requestID: String, timeout: Double? = nil
    ) async throws(OpenAIError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: provider.url(path))
        request.method = method
        if body != nil { request.headers.add(name: "content-type", value: "application/json") }
        let clientKey = provider.apiKey == nil && forwardsClientKeys
        if provider.configuration.kind == .anthropic {
            // Anthropic takes its key in x-api-key; a client's bearer key is passed the same way.
            let bearer = clientKey ? clientHeaders[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } : nil
            if let key = provider.apiKey ?? bearer { request.headers.add(name: "x-api-key", value: key) }
            request.headers.add(name: "anthropic-version", value: provider.configuration.anthropicVersion)
        } else if let key = provider.apiKey {
            request.headers.add(name: "authorization", value: "Bearer \(key)")
        } else if clientKey, let clientAuthorization = clientHeaders[.authorization] {
            request.headers.add(name: "authorization", value: clientAuthorization)
        }
        request.headers.add(contentsOf: ForwardedHeaders.outgoing(from: clientHeaders, requestID: requestID, clientKey: clientKey))
        if let body { request.body = .bytes(ByteBuffer(data: body.canonicalData)) }
        let timeout = timeout ?? provider.configuration.timeout
        do {
            return try await client.execute(request, deadline: .now() + .milliseconds(Int64(timeout * 1000)))
        } catch {
            throw failure(error, provider: provider)
        }
    }

    /// The failure of a call that did not produce a response (or stopped producing one, with
    /// `midAnswer`), as the client's error.
    func failure(_ error: any Error, provider: UpstreamProvider, midAnswer: Bool = false) -> OpenAIError {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            metrics.upstreamError(provider: provider.name, kind: "timeout")
            let what = midAnswer ? "went silent in the middle of its answer for more than" : "did not answer within"
            return OpenAIError(
                status: .gatewayTimeout,
                message: "The upstream provider '\(provider.name)' \(what) \(provider.configuration.timeout) s",
                type: "upstream_error", code: "upstream_timeout")
        }
        metrics.upstreamError(provider: provider.name, kind: "unreachable")
        return .upstream(.badGateway, "The upstream provider '\(provider.name)' is unreachable: \(Self.describe(error))",
                         code: "upstream_unreachable")
    }

    /// Reads a whole JSON response body (at most 64 MiB).
    func json(_ response: HTTPClientResponse, provider: UpstreamProvider) async throws(OpenAIError) -> JSONValue {
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw failure(error, provider: provider, midAnswer: true)
        }
        do {
            return try JSONValue.parse(Data(buffer: bytes))
        } catch {
            metrics.upstreamError(provider: provider.name, kind: "invalid")
            throw .upstream(.badGateway, "The upstream provider '\(provider.name)' answered with invalid JSON",
                            code: "upstream_invalid_response")
        }
    }

    /// The client's error for an upstream answer that is not a success, with the provider's rate
    /// limit and retry headers.
    func error(for response: HTTPClientResponse, provider: UpstreamProvider) async -> OpenAIError {
        var e = await translated(response, provider: provider)
        for field in ForwardedHeaders.incoming(from: response.headers) { e.headers[field.name.canonicalName] = field.value }
        return e
    }

    private func translated(_ response: HTTPClientResponse, provider: UpstreamProvider) async -> OpenAIError {
        let status = Int(response.status.code)
        metrics.upstreamError(provider: provider.name, kind: "status")
        let body = try? await response.body.collect(upTo: 1 << 20)
        let parsed = body.flatMap { try? JSONValue.parse(Data(buffer: $0)) }
        let message = parsed?["error"]?["message"]?.stringValue
            ?? body.map { String(decoding: Data(buffer: $0).prefix(200), as: UTF8.self) } ?? ""
        switch status {
        case 429:
            return OpenAIError(status: .tooManyRequests, message: message.isEmpty ? "Rate limited upstream" : message,
                               type: "rate_limit_error", code: "rate_limit_exceeded")
        case 401 where provider.apiKey != nil, 403 where provider.apiKey != nil:
            return .upstream(.badGateway, "The upstream provider '\(provider.name)' refused Deja's credentials (HTTP \(status)); "
                             + "check \(provider.configuration.apiKeyEnv ?? "its key")", code: "upstream_auth")
        case 400..<500:
            var e = OpenAIError(
                status: HTTPResponse.Status(code: status), message: message.isEmpty ? "Upstream rejected the request" : message,
                type: parsed?["error"]?["type"]?.stringValue ?? "invalid_request_error")
            e.param = parsed?["error"]?["param"]?.stringValue
            e.code = parsed?["error"]?["code"]?.stringValue
            // Anthropic says so in words only.
            if e.code == nil, provider.configuration.kind == .anthropic, message.hasPrefix("prompt is too long") {
                e.code = "context_length_exceeded"
            }
            return e
        default:
            return .upstream(.badGateway, "The upstream provider '\(provider.name)' failed (HTTP \(status)): \(message)",
                             code: "upstream_error")
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }
}
