import Crypto
import Foundation

/// A configured provider, with its API key read from the environment at start.
struct UpstreamProvider: Sendable {
    let name: String
    let configuration: ProviderConfiguration
    /// `nil` when no key variable is configured: the client's own `Authorization` header is
    /// forwarded, and its key also becomes the cache tenant.
    let apiKey: String?

    func url(_ path: String) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// The cache tenant of a client's request to this provider. With a provider key in the
    /// configuration, all clients share one tenant; without one, the client's own key goes
    /// upstream and its SHA-256 is the tenant, so clients with different keys never share
    /// answers.
    func tenant(authorization: String?) -> String {
        guard apiKey == nil, let authorization, !authorization.isEmpty else { return "" }
        let digest = SHA256.hash(data: Data(authorization.utf8))
        return "key:" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
