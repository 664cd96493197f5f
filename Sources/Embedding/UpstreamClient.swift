public import AsyncHTTPClient
import NIOCore

extension HTTPClient.Configuration {
    /// The configuration Deja uses for every upstream (LLM providers, embeddings endpoints).
    ///
    /// A refused connection fails at once instead of being retried until the request's deadline
    /// (AsyncHTTPClient's default), so a dead upstream turns into a quick 502, not a slow 504.
    /// Redirects are not followed: an API that redirects is misconfigured. `connectionsPerHost`
    /// bounds the HTTP/1 calls in flight to one host (`server.upstream_connections`); beyond it
    /// calls wait for a free connection.
    public static func deja(connectTimeout: Double = 5, connectionsPerHost: Int = 256) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .milliseconds(Int64(connectTimeout * 1000))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        return configuration
    }
}
