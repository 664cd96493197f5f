import DejaSupport
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
            abstract: "Import into, export from and inspect the cache store (stop the gateway first, or go through it with --url).",
            subcommands: [Import.self, Export.self, Stats.self])
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
                model, system prompt and prompt, and similar ones. A line written by deja cache export \
                ("object": "cache.entry") is restored as it was: its namespace, answer, times and \
                counts, embedded anew with this cache's embedder (expired ones are left out). Each \
                stored entry is printed as "stored KEY" once it is durable. The store is opened \
                directly, which a running gateway does not allow; with --url the entries go through \
                that gateway's lookup API instead.
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

            /// The line as `POST /v1/cache/entries` takes it.
            func body(model defaultModel: String) -> JSONValue {
                var fields: [String: JSONValue] = [
                    "prompt": .string(prompt), "response": .string(answer), "model": .string(model ?? defaultModel),
                ]
                if let system { fields["system"] = .string(system) }
                if let namespace { fields["namespace"] = .string(namespace) }
                if let tenant { fields["tenant"] = .string(tenant) }
                if let ttl { fields["ttl"] = .double(ttl) }
                return .object(fields)
            }
        }

        /// One line of the file: a known answer, or an entry as `deja cache export` wrote it;
        /// each with the body `POST /v1/cache/entries` takes for it.
        enum Item {
            case answer(KnownAnswer, JSONValue)
            case entry(CacheEntry, JSONValue)
        }

        func run() async throws {
            let items = try read()
            // An export may be older than some of its entries' lives: those are left out here,
            // the same way whichever path they would take.
            let now = Date()
            let live = items.filter { item in
                if case .entry(let entry, _) = item, let expiry = entry.expiresAt { return expiry > now }
                return true
            }
            if let url {
                try await importThrough(url, live)
            } else {
                try await importOffline(live)
            }
            let expired = items.count - live.count
            if expired > 0 {
                FileHandle.standardError.write(Data("deja: left out \(expired) expired entr\(expired == 1 ? "y" : "ies")\n".utf8))
            }
        }

        func read() throws -> [Item] {
            let text = try TextFile.read(file)
            var items: [Item] = []
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = raw.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { continue }
                let place = "\(file):\(number + 1)"
                if let json = try? JSONValue.parse(Data(trimmed.utf8)), CacheEntryJSON.isEntry(json) {
                    do {
                        items.append(.entry(try CacheEntryJSON.restorable(json), json))
                    } catch {
                        throw CommandFailure("\(place): \(error.message)")
                    }
                    continue
                }
                let line: Line
                do {
                    line = try JSONDecoder().decode(Line.self, from: Data(trimmed.utf8))
                } catch {
                    let why = (error as? DecodingError).flatMap { error -> String? in
                        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return nil }
                        return error.readableDescription
                    } ?? "not JSON"
                    throw CommandFailure(
                        "\(place): \(why); expected {\"prompt\": ..., \"answer\": ...} or an entry from deja cache export")
                }
                // Checked as the lookup API checks it, before anything is stored.
                let body = line.body(model: model)
                do {
                    items.append(.answer(try KnownAnswer(body), body))
                } catch {
                    throw CommandFailure("\(place): \(error.message)")
                }
            }
            return items
        }

        /// Each item straight into the store, which a running gateway does not allow.
        func importOffline(_ items: [Item]) async throws {
            let configuration = try options.load()
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: Logger(label: "deja.cache"))
                for item in items {
                    let stored: CacheEntry?
                    switch item {
                    case .answer(let answer, _):
                        stored = try await answer.store(in: cache)
                    case .entry(let entry, _):
                        stored = try await cache.restore(entry)
                    }
                    if let stored { FileHandle.standardOutput.write(Data("stored \(stored.key)\n".utf8)) }
                }
                try await cache.close()
            }
        }

        /// Each item through `POST /v1/cache/entries` of a running gateway, one at a time, in order.
        func importThrough(_ url: String, _ items: [Item]) async throws {
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let gateway = try AdminClient(url: url, keyVariable: adminKeyEnv, client: client)
                for (number, item) in items.enumerated() {
                    let body: JSONValue
                    switch item {
                    case .answer(_, let json), .entry(_, let json): body = json
                    }
                    let answer = try await gateway.send(.POST, "/v1/cache/entries", body: body)
                    if answer.json["error"]?["code"]?.stringValue == "entry_expired" { continue }
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
            let configuration = try options.loadExistingCache()
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: Logger(label: "deja.cache"))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(cache.stats.busiest(namespaces)), as: UTF8.self))
            }
        }
    }
}
