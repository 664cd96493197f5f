public import Embedding
import Foundation
public import SemanticCache

/// The HTTP server.
public struct ServerConfiguration: Codable, Sendable, Equatable {
    /// The address to listen on; 127.0.0.1 unless told otherwise, so nothing is exposed by default.
    public var host: String
    public var port: Int
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// Who may call the proxied routes: `none` (anyone who reaches the port) or `keys` (only
    /// holders of a Deja key; see docs/governance.md).
    public var auth: AuthMode
    /// The environment variable holding the admin key that guards the admin routes (`/v1/cache`,
    /// `/v1/admin`).
    public var adminKeyEnv: String
    /// Cache answers of requests with `n > 1` (their namespace includes `n`).
    public var cacheMultipleChoices: Bool
    /// The most HTTP/1 connections open at once to one upstream host, which is the most upstream
    /// calls in flight to it: each miss holds one for as long as the model takes to answer, so a
    /// small pool queues misses behind each other (AsyncHTTPClient's default is 8). HTTPS
    /// upstreams that speak HTTP/2 carry many calls on one connection.
    public var upstreamConnections: Int
    /// Identical cacheable requests that arrive while the first is still waiting for the
    /// provider wait for its answer instead of calling the provider too (streamed ones excepted;
    /// see `MissFlights`).
    public var coalesceMisses: Bool
    /// Names (in the `Host` header) the gateway answers to besides the localhost ones; `*` for
    /// any. Empty: only localhost names when listening on a loopback address (against DNS
    /// rebinding, see `HostCheck`), any name otherwise.
    public var allowedHosts: [String]
    /// Seconds a client connection may sit without sending anything, between requests or in the
    /// middle of one (a client that sends its headers a byte at a time), before it is closed; 0
    /// never. A response being written is never cut, however long the model thinks.
    public var idleTimeout: Double
    /// Seconds a client has to send a whole request, head and body, from its first byte; 0 no
    /// limit. Past it the client gets a 408 and the connection is closed (``ConnectionGuard``):
    /// the idle timeout alone lets a client that sends a byte every few seconds hold a
    /// connection for ever. The time Deja takes to answer is not counted.
    public var requestTimeout: Double
    /// The most client connections served at once; 0 no limit. A connection beyond it gets a
    /// 503 to its request and is closed. Each open connection costs about 13 kB of memory while
    /// idle (docs/reliability.md).
    public var maxConnections: Int
    /// Web origins (`http://localhost:3000`) whose pages may call Deja from the browser; `*` for
    /// any. Empty: none (see `CORSMiddleware`).
    public var corsOrigins: [String]
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    public var tls: TLSFiles

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 4 << 20, auth: AuthMode = .none, adminKeyEnv: String = "DEJA_ADMIN_KEY",
        cacheMultipleChoices: Bool = false, upstreamConnections: Int = 256, coalesceMisses: Bool = true,
        allowedHosts: [String] = [], idleTimeout: Double = 60, requestTimeout: Double = 30, maxConnections: Int = 10_000,
        corsOrigins: [String] = [], tls: TLSFiles = .init()
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.auth = auth
        self.adminKeyEnv = adminKeyEnv
        self.cacheMultipleChoices = cacheMultipleChoices
        self.upstreamConnections = upstreamConnections
        self.coalesceMisses = coalesceMisses
        self.allowedHosts = allowedHosts
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        self.corsOrigins = corsOrigins
        self.tls = tls
    }

    enum CodingKeys: String, CodingKey {
        case host, port, maxBodyBytes = "max_body_bytes", auth, adminKeyEnv = "admin_key_env"
        case cacheMultipleChoices = "cache_multiple_choices", upstreamConnections = "upstream_connections"
        case coalesceMisses = "coalesce_misses", allowedHosts = "allowed_hosts", idleTimeout = "idle_timeout"
        case requestTimeout = "request_timeout", maxConnections = "max_connections"
        case corsOrigins = "cors_origins", tls
    }

    public init(from decoder: any Decoder) throws {
        let d = ServerConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        auth = try c.decodeIfPresent(AuthMode.self, forKey: .auth) ?? d.auth
        adminKeyEnv = try c.decodeIfPresent(String.self, forKey: .adminKeyEnv) ?? d.adminKeyEnv
        cacheMultipleChoices = try c.decodeIfPresent(Bool.self, forKey: .cacheMultipleChoices) ?? d.cacheMultipleChoices
        upstreamConnections = try c.decodeIfPresent(Int.self, forKey: .upstreamConnections) ?? d.upstreamConnections
        coalesceMisses = try c.decodeIfPresent(Bool.self, forKey: .coalesceMisses) ?? d.coalesceMisses
        allowedHosts = try c.decodeIfPresent([String].self, forKey: .allowedHosts) ?? d.allowedHosts
        idleTimeout = try c.decodeIfPresent(Double.self, forKey: .idleTimeout) ?? d.idleTimeout
        requestTimeout = try c.decodeIfPresent(Double.self, forKey: .requestTimeout) ?? d.requestTimeout
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? d.maxConnections
        corsOrigins = try c.decodeIfPresent([String].self, forKey: .corsOrigins) ?? d.corsOrigins
        tls = try c.decodeIfPresent(TLSFiles.self, forKey: .tls) ?? d.tls
    }

    var problems: [String] {
        var out: [String] = []
        if host.isEmpty { out.append("server.host: must not be empty") }
        if !(0...65_535).contains(port) { out.append("server.port: must be between 0 and 65535, got \(port)") }
        if !(1_024...(1 << 30)).contains(maxBodyBytes) {
            out.append("server.max_body_bytes: must be between 1024 and 1073741824, got \(maxBodyBytes)")
        }
        if adminKeyEnv.isEmpty { out.append("server.admin_key_env: must name an environment variable") }
        if !(1...10_000).contains(upstreamConnections) {
            out.append("server.upstream_connections: must be between 1 and 10000, got \(upstreamConnections)")
        }
        if !(0...86_400).contains(idleTimeout) {
            out.append("server.idle_timeout: must be between 0 (never) and 86400 seconds, got \(idleTimeout)")
        }
        if !(0...86_400).contains(requestTimeout) {
            out.append("server.request_timeout: must be between 0 (no limit) and 86400 seconds, got \(requestTimeout)")
        }
        if !(0...1_000_000).contains(maxConnections) {
            out.append("server.max_connections: must be between 0 (no limit) and 1000000, got \(maxConnections)")
        }
        for (i, name) in allowedHosts.enumerated() where name.isEmpty || name.contains(where: { $0 == "/" || $0 == " " }) {
            out.append("server.allowed_hosts[\(i)]: must be a host name such as deja.internal (no scheme, path or spaces), got '\(name)'")
        }
        if tls.certFile.isEmpty != tls.keyFile.isEmpty {
            out.append("server.tls: give both cert_file and key_file (PEM files), or neither for plain HTTP")
        }
        for (i, origin) in corsOrigins.enumerated() where origin != "*" && !CORSMiddleware.isOrigin(origin) {
            out.append("server.cors_origins[\(i)]: must be an origin such as http://localhost:3000 (scheme, host and port, "
                + "no path) or \"*\", got '\(origin)'")
        }
        return out
    }
}
