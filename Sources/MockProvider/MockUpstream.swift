public import DejaSupport
import Embedding
import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import SemanticCache
import ServiceLifecycle

/// A small OpenAI-wire server with deterministic answers, for tests, the Quick start and
/// benchmarks: `deja mock-upstream --port N [--latency-ms L]`.
///
/// It serves `POST /v1/chat/completions` (plain and streamed), `POST /v1/completions`,
/// `POST /v1/embeddings`, `POST /v1/responses` (plain and streamed), `GET` and `DELETE
/// /v1/responses/{id}`, `POST /v1/responses/{id}/cancel`, `POST /v1/moderations` and
/// `GET /v1/models`. The answer to a chat is a fixed function of its last user message. Faults
/// are chosen by the model name, so a test can reach every failure through Deja without special
/// headers:
///
/// | model | behaviour |
/// |-------|-----------|
/// | `mock-error-500`, `mock-error-429`, `mock-error-400`, `mock-error-401` | that status, OpenAI error body |
/// | `mock-timeout` | answers after 60 s |
/// | `mock-garbage` | status 200, a body that is not JSON |
/// | `mock-cut-stream` | a stream that stops after two chunks without `[DONE]` (plain: a cut JSON body) |
/// | `mock-slow-stream` | five chunks, 200 ms apart |
/// | `mock-stall-stream` | two chunks, then 5 s of silence before the rest |
/// | `mock-flaky-N` | 503 for the first N requests with that model, then normal answers |
/// | `mock-tools` | a `tool_calls` answer |
/// | `mock-functions` | a `function_call` answer (the deprecated functions API) |
/// | `mock-reasoning` | thinks aloud in `reasoning_content` (as DeepSeek and vLLM do) and spends 50 completion tokens on it before it answers: under a smaller `max_completion_tokens`, an empty answer cut off by `length` |
/// | `mock-filtered` | a stream that opens as Azure OpenAI's do, with a chunk of prompt filter results and no choices, id or model |
/// | `mock-embed-D` | embeddings of dimension D |
public final class MockUpstream: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Added before every answer (before the first byte of a stream).
        public var latency: Duration
        /// Default embedding dimension.
        public var embeddingDimension: Int

        public init(host: String = "127.0.0.1", port: Int = 0, latency: Duration = .zero, embeddingDimension: Int = 64) {
            self.host = host
            self.port = port
            self.latency = latency
            self.embeddingDimension = embeddingDimension
        }
    }

    public let configuration: Configuration
    let counters = RequestCounters()

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Requests received on `path` (e.g. `/v1/chat/completions`).
    public func requests(to path: String) -> Int { counters.count(path) }

    /// Requests (any path) whose body named `model`.
    public func requests(model: String) -> Int { counters.count(model: model) }

    /// The body of the last request on `path`.
    public func lastBody(to path: String) -> JSONValue? { counters.lastBody(path) }

    /// Headers of the last request on `path`.
    public func lastHeaders(to path: String) -> [String: String] { counters.lastHeaders(path) }

    /// Streams that the reader (Deja) closed before their end.
    public var abandonedStreams: Int { counters.abandoned }

    /// The most requests that were being answered at once (until their response head).
    public var peakConcurrentRequests: Int { counters.peakInFlight }

    /// The Hummingbird application; `onRunning` receives the bound port.
    public func application(
        logger: Logger = Logger(label: "deja.mock-upstream"), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "deja-mock"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs the server while `body` runs, passing it the bound port, then stops it.
    public func withRunning<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "deja.mock-upstream")
        logger.logLevel = .warning
        let app = application(logger: logger) { port in continuation.yield(port) }
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await services.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            // Stop gracefully, but do not wait more than a second for requests that hang on
            // purpose (mock-timeout).
            defer { group.cancelAll() }
            let result = try await body(port)
            await services.triggerGracefulShutdown()
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                return nil
            }
            _ = try await group.next()
            return result
        }
    }
}
