public import AsyncHTTPClient
import NIOCore

extension HTTPClient.Configuration {
    /// The configuration Deja uses for every upstream (LLM providers, embeddings endpoints).
    ///
    /// A refused connection fails at once instead of being retried until the request's deadline
    /// (AsyncHTTPClient's default), so a dead upstream turns into a quick 502, not a slow 504.
    /// Redirects are not followed: an API that redirects is misconfigured. `connectionsPerHost`
    /// bounds the HTTP/1 calls in flight to one host (`server.upstream_connections`); beyond it
    /// calls wait for a free connection. `readTimeout` bounds the silence while a call is in
    /// flight, in the middle of a body too: a call's deadline ends when the response head
    /// arrives, so without it a stream that stalls after its first chunk would hang for ever.
    /// Tracing is off: Deja bootstraps no tracer, and with the default no-op one the client
    /// still parsed each request's URL a second time and built its span's attributes (1.4 % of
    /// a miss's CPU).
    public static func deja(
        connectTimeout: Double = 5, connectionsPerHost: Int = 256, readTimeout: Double? = nil
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        if let readTimeout { configuration.timeout.read = .milliseconds(Int64(readTimeout * 1000)) }
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .milliseconds(Int64(connectTimeout * 1000))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil
        return configuration
    }
}
