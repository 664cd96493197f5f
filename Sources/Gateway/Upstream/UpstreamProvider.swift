import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SemanticCache

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
}
