import MockProvider
import DejaSupport
import ArgumentParser
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import Hummingbird
import Logging
import SemanticCache
import VectorIndex

extension Deja {
    /// `deja serve`: the gateway.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the gateway: an OpenAI-compatible proxy with a semantic cache.",
            discussion: """
                Listens on server.host:server.port (127.0.0.1:8080 unless configured). SIGINT or SIGTERM \
                stops it gracefully: requests in flight finish, answers being stored are stored, the \
                counters are written and the index snapshot is saved.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: "Address to listen on (overrides server.host).") var host: String?
        @Option(help: "Port to listen on (overrides server.port).") var port: Int?

        func validate() throws {
            if let port { try PortOption.check(port) }
        }

        func run() async throws {
            GlobalExecutor.useEventLoops()
            var configuration = try options.load()
            if let host { configuration.server.host = host }
            if let port { configuration.server.port = port }
            let level = Logger.Level(rawValue: configuration.logging.level) ?? .info
            let json = configuration.logging.json
            LoggingSystem.bootstrap { label in BufferedLogHandler(label: label, level: level, json: json) }
            defer { BufferedLogHandler.flush() }
            let logger = Logger(label: "deja")
            if let change = OpenFileLimit.raise() {
                let (info, warning) = OpenFileLimit.messages(change)
                if let info { logger.info("\(info)") }
                if let warning { logger.warning("\(warning)") }
            }
            try await HTTPClient.withHTTPClient(
                configuration: .deja(
                    connectionsPerHost: configuration.server.upstreamConnections, readTimeout: configuration.upstreamReadTimeout)
            ) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: logger)
                let governance = try await Governance.open(configuration, logger: logger)
                let gateway = try Gateway(
                    configuration: configuration, cache: cache, client: client, governance: governance, logger: logger)
                let host = configuration.server.host
                let scheme = configuration.server.tls.isEnabled ? "https" : "http"
                let app = try gateway.application { port in
                    // The machine every figure of this server depends on (see docs/operations.md).
                    let machine = MachineProfile.current
                    logger.info("\(machine)")
                    if let advice = machine.blasCoreAdvice { logger.warning("\(advice)") }
                    let keys = governance.auth == .keys ? ", \(governance.keyCount) Deja keys" : ""
                    logger.notice("deja listening on \(scheme)://\(host):\(port) with \(cache.size.entries) cached entries\(keys)")
                    for warning in gateway.startupWarnings { logger.warning("\(warning)") }
                }
                do {
                    try await app.runService()
                } catch {
                    throw ListenError(error, host: host, port: configuration.server.port) ?? error
                }
            }
        }
    }

    /// `--port`: 0 (any free port) to 65535.
    enum PortOption {
        static func check(_ port: Int) throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        }
    }

    /// `deja mock-upstream`: the OpenAI-wire mock.
    struct MockUpstreamCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mock-upstream",
            abstract: "Run a mock OpenAI-compatible server with deterministic answers (for tests and demos).",
            discussion: """
                Serves /v1/chat/completions (plain and streamed), /v1/completions, /v1/embeddings, \
                /v1/responses, /v1/moderations and /v1/models. Model names such as mock-error-500, \
                mock-timeout, mock-garbage, mock-cut-stream, mock-slow-stream and mock-flaky-N trigger faults.
                """)

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on.") var port = 8081
        @Option(help: "Milliseconds to wait before every answer.") var latencyMs = 0.0
        @Option(help: "Dimension of the mock embeddings.") var embeddingDimension = 64

        func validate() throws {
            try PortOption.check(port)
            guard latencyMs >= 0 else { throw ValidationError("--latency-ms must be 0 or more, got \(latencyMs)") }
            guard embeddingDimension > 0 else {
                throw ValidationError("--embedding-dimension must be at least 1, got \(embeddingDimension)")
            }
        }

        func run() async throws {
            let mock = MockUpstream(configuration: .init(
                host: host, port: port, latency: .milliseconds(Int64(latencyMs * 1000) / 1000),
                embeddingDimension: embeddingDimension))
            let logger = Logger(label: "deja.mock-upstream")
            do {
                try await mock.application(logger: logger) { port in
                    logger.notice("mock upstream listening on http://\(host):\(port)/v1")
                }.runService()
            } catch {
                throw ListenError(error, host: host, port: port, configurable: false) ?? error
            }
        }
    }
}
