import MockProvider
import DejaSupport
import AsyncHTTPClient
import HTTPTypes
import HummingbirdTesting
import Embedding
import Foundation
import Gateway
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SemanticCache
import ServiceLifecycle
import TestSupport

/// A real Deja server on 127.0.0.1 (port 0) in front of the mock upstream, with a SQLite cache in
/// a temporary folder; tests talk to it over HTTP. With `inProcess`, requests go to the router
/// through Hummingbird's in-process test client instead (no socket, faster): for what is about
/// routes, not connections.
struct GatewayHarness: Sendable {
    let port: Int
    let mock: MockUpstream
    let gateway: Gateway
    /// Hummingbird's in-process client, when the harness runs without a socket.
    var router: (any TestClientProtocol)?
    static let adminKey = "test-admin-key"
    static let client = HTTPClient(configuration: .deja())

    var base: String { "http://127.0.0.1:\(port)" }

    /// Gives every configured provider a timeout long enough for a loaded machine (CI runs the
    /// suites in parallel on two cores; ThreadSanitizer runs some too). The harness's 2 s suits
    /// the tests of timeouts; a test whose answer takes several upstream calls, or whose leader
    /// must not time out, would otherwise fail when the machine is slow, not when the feature breaks.
    static func patient(_ configuration: inout DejaConfiguration) {
        for name in configuration.providers.keys { configuration.providers[name]?.timeout = 60 }
    }

    /// Runs `body` with a fresh mock upstream and gateway; `configure` adjusts the configuration.
    static func run(
        inProcess: Bool = false,
        configure: @Sendable (inout DejaConfiguration) -> Void = { _ in },
        environment: [String: String] = [:],
        upstreamLatency: Duration = .zero,
        logger: Logger? = nil,
        clock: any CacheClock = SystemClock(),
        _ body: @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        let mock = MockUpstream(configuration: .init(latency: upstreamLatency))
        try await mock.withRunning { mockPort in
            let dir = try TemporaryDirectory("deja-gateway")
            defer { dir.remove() }
            var configuration = DejaConfiguration()
            configuration.server.port = 0
            configuration.server.maxBodyBytes = 64 << 10
            configuration.cache.store = dir.path("cache.sqlite")
            configuration.cache.indexFile = dir.path("cache.hnsw")
            configuration.governance.store = dir.path("governance.sqlite")
            configuration.usage.flushInterval = 0.05
            configuration.providers["mock"] = ProviderConfiguration(baseURL: "http://127.0.0.1:\(mockPort)/v1", timeout: 2)
            configuration.models["*"] = ModelRoute(provider: "mock")
            configure(&configuration)
            let logger = logger ?? {
                var quiet = Logger(label: "deja.test")
                quiet.logLevel = .error
                return quiet
            }()
            // The gateway's own client, configured as `deja serve` configures it (the read timeout
            // that bounds silences inside upstream answers); the tests' requests use `client`.
            let upstreamClient = HTTPClient(configuration: .deja(readTimeout: configuration.upstreamReadTimeout))
            defer { _ = upstreamClient.shutdown() }
            let cache = try await CacheRuntime.open(configuration, client: upstreamClient, logger: logger)
            var env = ["DEJA_ADMIN_KEY": adminKey]
            for (k, v) in environment { env[k] = v }
            let governance = try await Governance.open(configuration, logger: logger, clock: clock)
            let gateway = try Gateway(
                configuration: configuration, cache: cache, client: upstreamClient, governance: governance, environment: env,
                logger: logger)
            if inProcess {
                try await gateway.application().test(.router) { client in
                    try await body(GatewayHarness(port: 0, mock: mock, gateway: gateway, router: client))
                }
                return
            }
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = try gateway.application { port in continuation.yield(port) }
            let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else { return }
                do {
                    try await body(GatewayHarness(port: port, mock: mock, gateway: gateway))
                } catch {
                    await services.triggerGracefulShutdown()
                    throw error
                }
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The `data:` payloads of an SSE body.
        var events: [String] {
            var parser = ServerSentEvents.Parser()
            return parser.feed(Array(body))
        }
    }

    func request(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [String: String] = [:],
        contentType: String? = "application/json"
    ) async throws -> Reply {
        if let router {
            var fields = HTTPFields()
            if let contentType { fields[.contentType] = contentType }
            for (k, v) in headers { fields.append(HTTPField(name: HTTPField.Name(k)!, value: v)) }
            let response = try await router.executeRequest(
                uri: path, method: HTTPRequest.Method(rawValue: method.rawValue)!, headers: fields,
                body: body.map { ByteBuffer(data: $0) })
            return Reply(
                status: response.status.code, headers: HTTPHeaders(response.headers.map { ($0.name.rawName, $0.value) }),
                body: Data(buffer: response.body))
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let contentType { request.headers.add(name: "content-type", value: contentType) }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await Self.client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    func post(_ path: String, _ json: JSONValue, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.POST, path, body: json.canonicalData, headers: headers)
    }

    func chat(
        _ prompt: String, model: String = "gpt-test", stream: Bool = false, system: String? = nil,
        extra: [String: JSONValue] = [:], headers: [String: String] = [:]
    ) async throws -> Reply {
        var body = CacheKeys.plainChatBody(model: model, prompt: prompt, system: system).objectValue!
        if stream { body["stream"] = true }
        for (k, v) in extra { body[k] = v }
        return try await post("/v1/chat/completions", .object(body), headers: headers)
    }

    var admin: [String: String] { ["authorization": "Bearer \(Self.adminKey)"] }

    var governance: Governance { gateway.governance! }

    /// Waits until answers being stored in the background are stored.
    func settle() async {
        await gateway.drainBackgroundWork()
    }
}

extension GatewayHarness.Reply {
    /// The assistant text of a chat completion, or of a chat stream's chunks joined.
    var assistantText: String? {
        if let text = OpenAIWire.firstText(json) { return text }
        let parts = events.filter { $0 != "[DONE]" }.compactMap { try? JSONValue.parse($0) }
            .compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }
        return parts.isEmpty ? nil : parts.joined()
    }

    var cache: String? { headers.first(name: "x-deja-cache") }
}
