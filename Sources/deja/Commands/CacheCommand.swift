import ArgumentParser
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import Logging
import NIOHTTP1
import SemanticCache

extension Deja {
    /// `deja cache ...`: work on the cache store directly (with the gateway stopped).
    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import into and inspect the cache store (stop the gateway first, or import through it with --url).",
            subcommands: [Import.self, Stats.self])
    }
}

extension Deja.Cache {
    /// `deja cache import FILE`: warm the cache with known answers.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store known answers in the cache.",
            discussion: """
                FILE is JSONL, one entry per line: {"prompt": ..., "answer": ...} with optional "model", \
                "system" (a system prompt), "namespace" (the x-deja-namespace partition), "tenant" and \
                "ttl" (seconds). An entry answers exactly the chat request a client would send with that \
                model, system prompt and prompt, and similar ones. Each stored entry is printed as \
                "stored KEY" once it is durable. The store is opened directly, which a running gateway \
                does not allow; with --url the entries go through that gateway's lookup API instead.
                """)

        @Argument(help: "JSONL file of entries.") var file: String
        @OptionGroup var options: ConfigOptions
        @Option(help: "Model for entries that do not name one.") var model = "gpt-4o-mini"
        @Option(help: "Import through the running gateway at this URL (POST /v1/cache/entries) instead of opening the store.")
        var url: String?
        @Option(help: "With --url: the environment variable holding the gateway's admin key.")
        var adminKeyEnv = "DEJA_ADMIN_KEY"

        struct Line: Decodable {
            var prompt: String
            var answer: String
            var model: String?
            var system: String?
            var namespace: String?
            var tenant: String?
            var ttl: Double?
        }

        func run() async throws {
            let text = try TextFile.read(file)
            var lines: [Line] = []
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = raw.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { continue }
                let line: Line
                do {
                    line = try JSONDecoder().decode(Line.self, from: Data(trimmed.utf8))
                } catch {
                    let why = (error as? DecodingError).flatMap { error -> String? in
                        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return nil }
                        return error.readableDescription
                    } ?? "not JSON"
                    throw CommandFailure("\(file):\(number + 1): \(why); expected {\"prompt\": ..., \"answer\": ...}")
                }
                if let partition = line.namespace, let problem = CacheKeys.partitionProblem(partition) {
                    throw CommandFailure("\(file):\(number + 1): namespace \(problem)")
                }
                lines.append(line)
            }
            if let url {
                try await importThrough(url, lines)
                return
            }
            let configuration = try options.load()
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: Logger(label: "deja.cache"))
                for line in lines {
                    let model = line.model ?? self.model
                    let body = CacheKeys.plainChatBody(model: model, prompt: line.prompt, system: line.system)
                    let request = CacheKeys.chat(body, tenant: line.tenant ?? "", partition: line.namespace)
                    let tokens = OpenAIWire.estimatedTokens(line.answer)
                    let response = OpenAIWire.chatCompletion(
                        id: "chatcmpl-deja-import", model: model, content: line.answer, created: Date(),
                        promptTokens: OpenAIWire.estimatedTokens(line.prompt), completionTokens: tokens)
                    let entry = try await cache.insert(
                        request, response: response.canonicalData, model: model,
                        promptTokens: OpenAIWire.estimatedTokens(line.prompt), completionTokens: tokens, ttl: line.ttl)
                    FileHandle.standardOutput.write(Data("stored \(entry.key)\n".utf8))
                }
                try await cache.close()
            }
        }

        /// Each entry through `POST /v1/cache/entries` of a running gateway, one at a time, in order.
        func importThrough(_ url: String, _ lines: [Line]) async throws {
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let gateway = try AdminClient(url: url, keyVariable: adminKeyEnv, client: client)
                for (number, line) in lines.enumerated() {
                    var body: [String: JSONValue] = [
                        "prompt": .string(line.prompt), "response": .string(line.answer), "model": .string(line.model ?? self.model),
                    ]
                    if let system = line.system { body["system"] = .string(system) }
                    if let namespace = line.namespace { body["namespace"] = .string(namespace) }
                    if let tenant = line.tenant { body["tenant"] = .string(tenant) }
                    if let ttl = line.ttl { body["ttl"] = .double(ttl) }
                    let answer = try await gateway.send(.POST, "/v1/cache/entries", body: .object(body))
                    guard answer.status == 201, let id = answer.json["id"]?.stringValue else {
                        throw CommandFailure("\(file): entry \(number + 1): the gateway refused it: \(AdminClient.message(answer))")
                    }
                    FileHandle.standardOutput.write(Data("stored \(id)\n".utf8))
                }
            }
        }
    }

    /// `deja cache stats`: entries, hits and savings per namespace.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the cache's statistics as JSON.")

        @OptionGroup var options: ConfigOptions
        @Option(help: "List the N namespaces with the most lookups (all of them are counted in the totals).")
        var namespaces = 1000
        @Option(help: "Ask the running gateway at this URL (GET /v1/cache/stats) instead of opening the store.")
        var url: String?
        @Option(help: "With --url: the environment variable holding the gateway's admin key.")
        var adminKeyEnv = "DEJA_ADMIN_KEY"

        func run() async throws {
            if let url {
                try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                    let gateway = try AdminClient(url: url, keyVariable: adminKeyEnv, client: client)
                    let answer = try await gateway.send(.GET, "/v1/cache/stats?namespaces=\(namespaces)")
                    guard answer.status == 200 else {
                        throw CommandFailure("the gateway refused: \(AdminClient.message(answer))")
                    }
                    let data = try JSONSerialization.data(
                        withJSONObject: JSONSerialization.jsonObject(with: answer.json.canonicalData), options: [.prettyPrinted, .sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            let configuration = try options.load()
            // Reporting on a cache must not make one, in whatever folder this runs in.
            guard FileManager.default.fileExists(atPath: configuration.cache.store) else {
                throw CommandFailure(
                    "there is no cache at \(configuration.cache.store) (cache.store): give the gateway's configuration with --config")
            }
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: Logger(label: "deja.cache"))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(cache.stats.busiest(namespaces)), as: UTF8.self))
            }
        }
    }
}
