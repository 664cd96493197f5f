public import Embedding
import Foundation
public import SemanticCache

/// The whole of `deja.yaml`. Every option has a default, so an empty file is a valid
/// configuration; `fixtures/deja.example.yaml` documents each one.
public struct DejaConfiguration: Codable, Sendable, Equatable {
    public var server: ServerConfiguration
    public var embedder: EmbedderConfiguration
    public var cache: CacheConfiguration
    /// Upstream LLM APIs by name.
    public var providers: [String: ProviderConfiguration]
    /// The models clients may ask for, each routed to a provider. The key `*` matches any model
    /// not listed and forwards it under its own name.
    public var models: [String: ModelRoute]
    public var logging: LoggingConfiguration

    public init(
        server: ServerConfiguration = .init(), embedder: EmbedderConfiguration = .init(), cache: CacheConfiguration = .init(),
        providers: [String: ProviderConfiguration] = [:], models: [String: ModelRoute] = [:],
        logging: LoggingConfiguration = .init()
    ) {
        self.server = server
        self.embedder = embedder
        self.cache = cache
        self.providers = providers
        self.models = models
        self.logging = logging
    }

    /// The longest silence allowed in the middle of an upstream answer (the HTTP client's read
    /// timeout, one for all upstreams): the longest `timeout` of the providers and the remote
    /// embedder, so that none is cut shorter than its own.
    public var upstreamReadTimeout: Double {
        let timeouts = providers.values.map(\.timeout) + (embedder.remote.map { [$0.timeout] } ?? [])
        return timeouts.max() ?? ProviderConfiguration(baseURL: "").timeout
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        server = try c.decodeIfPresent(ServerConfiguration.self, forKey: .server) ?? .init()
        embedder = try c.decodeIfPresent(EmbedderConfiguration.self, forKey: .embedder) ?? .init()
        cache = try c.decodeIfPresent(CacheConfiguration.self, forKey: .cache) ?? .init()
        providers = try c.decodeIfPresent([String: ProviderConfiguration].self, forKey: .providers) ?? [:]
        models = try c.decodeIfPresent([String: ModelRoute].self, forKey: .models) ?? [:]
        logging = try c.decodeIfPresent(LoggingConfiguration.self, forKey: .logging) ?? .init()
    }

    /// Every problem, one `path: message` each.
    public var problems: [String] {
        var out = server.problems + embedder.problems + cache.problems + logging.problems
        for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
            out += provider.problems.map { "providers.\(name).\($0)" }
        }
        for (name, route) in models.sorted(by: { $0.key < $1.key }) {
            if providers[route.provider] == nil {
                let known = providers.keys.sorted().joined(separator: ", ")
                out.append("models.\(name).provider: no provider named '\(route.provider)' (known: \(known.isEmpty ? "none" : known))")
            }
            if name == embedder.name {
                out.append("models.\(name): the name is taken by embedder.name, Deja's own embeddings model")
            }
            if let t = route.threshold {
                if name == "*" {
                    out.append("models.*.threshold: set cache.threshold for every model instead")
                } else if !(t >= 0 && t <= 1) {
                    out.append("models.\(name).threshold: must be between 0 and 1, got \(t)")
                }
            }
        }
        return out
    }

    /// The cache section as the cache uses it: each model route's `threshold` applies to every
    /// request for exactly that model name (every tenant and partition), ahead of
    /// `cache.thresholds`.
    public var effectiveCache: CacheConfiguration {
        var effective = cache
        for (name, route) in models where name != "*" {
            if let threshold = route.threshold { effective.modelThresholds[name] = threshold }
        }
        return effective
    }

    /// The route for a model a client asked for: its own entry, else `*`.
    public func route(for model: String) -> (route: ModelRoute, upstreamModel: String)? {
        if let route = models[model] { return (route, route.model ?? model) }
        if let any = models["*"] { return (any, model) }
        return nil
    }
}

/// The HTTP server.
public struct ServerConfiguration: Codable, Sendable, Equatable {
    /// The address to listen on; 127.0.0.1 unless told otherwise, so nothing is exposed by default.
    public var host: String
    public var port: Int
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// The environment variable holding the admin key that guards the `/v1/cache` routes.
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
    /// rebinding, see `HostCheckMiddleware`), any name otherwise.
    public var allowedHosts: [String]
    /// Seconds a client connection may sit without sending anything, between requests or in the
    /// middle of one (a client that sends its headers a byte at a time), before it is closed; 0
    /// never. A response being written is never cut, however long the model thinks.
    public var idleTimeout: Double
    /// Web origins (`http://localhost:3000`) whose pages may call Deja from the browser; `*` for
    /// any. Empty: none (see `CORSMiddleware`).
    public var corsOrigins: [String]
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    public var tls: TLSFiles

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 4 << 20, adminKeyEnv: String = "DEJA_ADMIN_KEY",
        cacheMultipleChoices: Bool = false, upstreamConnections: Int = 256, coalesceMisses: Bool = true,
        allowedHosts: [String] = [], idleTimeout: Double = 60, corsOrigins: [String] = [], tls: TLSFiles = .init()
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.adminKeyEnv = adminKeyEnv
        self.cacheMultipleChoices = cacheMultipleChoices
        self.upstreamConnections = upstreamConnections
        self.coalesceMisses = coalesceMisses
        self.allowedHosts = allowedHosts
        self.idleTimeout = idleTimeout
        self.corsOrigins = corsOrigins
        self.tls = tls
    }

    enum CodingKeys: String, CodingKey {
        case host, port, maxBodyBytes = "max_body_bytes", adminKeyEnv = "admin_key_env"
        case cacheMultipleChoices = "cache_multiple_choices", upstreamConnections = "upstream_connections"
        case coalesceMisses = "coalesce_misses", allowedHosts = "allowed_hosts", idleTimeout = "idle_timeout"
        case corsOrigins = "cors_origins", tls
    }

    public init(from decoder: any Decoder) throws {
        let d = ServerConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        adminKeyEnv = try c.decodeIfPresent(String.self, forKey: .adminKeyEnv) ?? d.adminKeyEnv
        cacheMultipleChoices = try c.decodeIfPresent(Bool.self, forKey: .cacheMultipleChoices) ?? d.cacheMultipleChoices
        upstreamConnections = try c.decodeIfPresent(Int.self, forKey: .upstreamConnections) ?? d.upstreamConnections
        coalesceMisses = try c.decodeIfPresent(Bool.self, forKey: .coalesceMisses) ?? d.coalesceMisses
        allowedHosts = try c.decodeIfPresent([String].self, forKey: .allowedHosts) ?? d.allowedHosts
        idleTimeout = try c.decodeIfPresent(Double.self, forKey: .idleTimeout) ?? d.idleTimeout
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

/// The certificate chain and private key of `server.tls`, PEM files; both empty: plain HTTP.
public struct TLSFiles: Codable, Sendable, Equatable {
    public var certFile: String
    public var keyFile: String

    public init(certFile: String = "", keyFile: String = "") {
        self.certFile = certFile
        self.keyFile = keyFile
    }

    public var isEnabled: Bool { !certFile.isEmpty && !keyFile.isEmpty }

    enum CodingKeys: String, CodingKey {
        case certFile = "cert_file", keyFile = "key_file"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certFile = try c.decodeIfPresent(String.self, forKey: .certFile) ?? ""
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile) ?? ""
    }
}

/// Which embedder turns prompts into vectors.
public struct EmbedderConfiguration: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case hashing, remote, minilm
    }

    public var kind: Kind
    /// The model name under which `/v1/embeddings` serves Deja's own embedder.
    public var name: String
    public var hashing: HashingEmbedderConfiguration
    public var remote: RemoteEmbedderConfiguration?
    public var minilm: MiniLMConfiguration
    /// How many recently embedded texts keep their vectors, so that the same text is not
    /// embedded twice in a row (``MemoizedEmbedder``); 0 turns that off.
    public var memoEntries: Int

    public init(
        kind: Kind = .hashing, name: String = "deja-embed", hashing: HashingEmbedderConfiguration = .init(),
        remote: RemoteEmbedderConfiguration? = nil, minilm: MiniLMConfiguration = .init(), memoEntries: Int = 4096
    ) {
        self.kind = kind
        self.name = name
        self.hashing = hashing
        self.remote = remote
        self.minilm = minilm
        self.memoEntries = memoEntries
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, hashing, remote, minilm
        case memoEntries = "memo_entries"
    }

    public init(from decoder: any Decoder) throws {
        let d = EmbedderConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? d.name
        hashing = try c.decodeIfPresent(HashingEmbedderConfiguration.self, forKey: .hashing) ?? d.hashing
        remote = try c.decodeIfPresent(RemoteEmbedderConfiguration.self, forKey: .remote)
        minilm = try c.decodeIfPresent(MiniLMConfiguration.self, forKey: .minilm) ?? d.minilm
        memoEntries = try c.decodeIfPresent(Int.self, forKey: .memoEntries) ?? d.memoEntries
    }

    /// `cache.threshold` when the file does not set it: where each embedder's cosines separate
    /// paraphrases from different questions best on `fixtures/pairs.jsonl` (`deja tune`, README).
    public var defaultThreshold: Float {
        switch kind {
        case .hashing, .remote: return CacheConfiguration().threshold
        case .minilm: return MiniLMConfiguration.defaultThreshold
        }
    }

    var problems: [String] {
        var out = hashing.problems.map { "embedder.hashing.\($0)" }
        if name.isEmpty { out.append("embedder.name: must not be empty") }
        if !(0...1_000_000).contains(memoEntries) {
            out.append("embedder.memo_entries: must be between 0 and 1000000, got \(memoEntries)")
        }
        switch kind {
        case .hashing: break
        case .remote:
            if let remote {
                out += remote.problems.map { "embedder.remote.\($0)" }
            } else {
                out.append("embedder.remote: required when embedder.kind is remote")
            }
        case .minilm:
            out += minilm.problems.map { "embedder.minilm.\($0)" }
        }
        return out
    }
}

/// An upstream OpenAI-compatible API.
public struct ProviderConfiguration: Codable, Sendable, Equatable {
    /// The API root, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// The environment variable holding its API key (never the key itself).
    public var apiKeyEnv: String?
    /// Seconds an upstream call may take, streaming included.
    public var timeout: Double

    public init(baseURL: String, apiKeyEnv: String? = nil, timeout: Double = 120) {
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.timeout = timeout
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", apiKeyEnv = "api_key_env", timeout
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL) ?? ""
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv)
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? 120
    }

    var problems: [String] {
        var out: [String] = []
        if URL(string: baseURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            out.append("base_url: must be an http or https URL, got '\(baseURL)'")
        }
        if !(timeout > 0 && timeout <= 3600) { out.append("timeout: must be between 0 and 3600 seconds, got \(timeout)") }
        return out
    }
}

/// Where a model's requests go.
public struct ModelRoute: Codable, Sendable, Equatable {
    /// A key of `providers`.
    public var provider: String
    /// The model name upstream (default: the name the client used).
    public var model: String?
    /// Whether this model's answers are cached at all.
    public var cache: Bool
    /// The similarity threshold of this model's requests, ahead of `cache.thresholds` and
    /// `cache.threshold` (`deja tune --model NAME --write FILE` sets it).
    public var threshold: Float?

    public init(provider: String, model: String? = nil, cache: Bool = true, threshold: Float? = nil) {
        self.provider = provider
        self.model = model
        self.cache = cache
        self.threshold = threshold
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? ""
        model = try c.decodeIfPresent(String.self, forKey: .model)
        cache = try c.decodeIfPresent(Bool.self, forKey: .cache) ?? true
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold)
    }
}

/// What the logs hold.
public struct LoggingConfiguration: Codable, Sendable, Equatable {
    /// trace, debug, info, notice, warning, error or critical.
    public var level: String
    /// Log prompt text in the request log line (off by default: prompts may hold personal data).
    public var prompts: Bool
    /// `text` (`time level label: message key=value ...`) or `json` (one object per line, for
    /// log collectors).
    public var format: String

    public init(level: String = "info", prompts: Bool = false, format: String = "text") {
        self.level = level
        self.prompts = prompts
        self.format = format
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(String.self, forKey: .level) ?? "info"
        prompts = try c.decodeIfPresent(Bool.self, forKey: .prompts) ?? false
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "text"
    }

    /// Lines are JSON objects.
    public var json: Bool { format == "json" }

    var problems: [String] {
        var out: [String] = []
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        if !levels.contains(level) { out.append("logging.level: must be one of \(levels.joined(separator: ", ")), got '\(level)'") }
        if !["text", "json"].contains(format) { out.append("logging.format: must be text or json, got '\(format)'") }
        return out
    }
}
