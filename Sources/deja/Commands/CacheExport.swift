import DejaSupport
import ArgumentParser
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import Logging
import NIOHTTP1
import SemanticCache

extension Deja.Cache {
    /// `deja cache export`: the entries as JSONL, for a backup, another machine or another embedder.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the cache's entries as JSONL, which deja cache import reads back.",
            discussion: """
                One entry per line, oldest first, as GET /v1/cache/entries/{key} shows it: namespace \
                id and label, prompt, model, the stored response, times, hits and token counts. \
                deja cache import restores them into another cache (with --url, into a running \
                gateway), embedding the prompts anew with that cache's embedder; the namespace ids \
                carry over, so the same requests hit there. Vectors and per-namespace counters are \
                not exported; expired entries are left out. The store is opened directly, which a \
                running gateway does not allow; with --url the entries come through that gateway's \
                lookup API instead.
                """)

        @OptionGroup var options: ConfigOptions
        @Option(help: "Only this namespace (its 32-digit id, as deja cache stats shows it).")
        var namespace: String?
        @Option(help: "Only the namespaces whose label matches this glob ('acme/*', '*/gpt-4o').")
        var label: String?
        @Option(name: .shortAndLong, help: "Write to this file, replaced only once the export is complete (default: standard output).")
        var output: String?
        @Option(help: "Export from the running gateway at this URL (GET /v1/cache/entries) instead of opening the store.")
        var url: String?
        @Option(help: "With --url: the environment variable holding the gateway's admin key.")
        var adminKeyEnv = "DEJA_ADMIN_KEY"

        func validate() throws {
            if namespace != nil && label != nil { throw ValidationError("give --namespace or --label, not both") }
            if let namespace, Digest128(hex: namespace) == nil {
                throw ValidationError("--namespace must be a 32-digit namespace id, as deja cache stats shows it")
            }
        }

        func run() async throws {
            var sink = try ExportSink(path: output)
            do {
                let count: Int
                if let url {
                    count = try await exportThrough(url, to: &sink)
                } else {
                    count = try await exportOffline(to: &sink)
                }
                try sink.finish()
                FileHandle.standardError.write(Data("deja: exported \(count) entr\(count == 1 ? "y" : "ies")\n".utf8))
            } catch {
                sink.abandon()
                throw error
            }
        }

        func exportOffline(to sink: inout ExportSink) async throws -> Int {
            let configuration = try options.loadExistingCache()
            return try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let cache = try await CacheRuntime.open(configuration, client: client, logger: Logger(label: "deja.cache"))
                var namespaces: Set<Digest128>?
                if let namespace { namespaces = Digest128(hex: namespace).map { [$0] } }
                if let label { namespaces = Set(cache.namespaces(matching: label).map(\.id)) }
                // Keys first, newest first as the cache pages them; then the entries oldest first,
                // so that an import gives them keys in the order they had.
                var keys: [UInt64] = []
                while true {
                    let page = try await cache.entries(in: namespaces, before: keys.last, limit: 1_000)
                    keys += page.entries.map(\.key)
                    if !page.more { break }
                }
                var count = 0
                for key in keys.reversed() {
                    guard let entry = try await cache.entry(key: key) else { continue }  // gone since
                    try sink.write(CacheEntryJSON.entry(entry))
                    count += 1
                }
                try await cache.close()
                return count
            }
        }

        func exportThrough(_ url: String, to sink: inout ExportSink) async throws -> Int {
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                let gateway = try AdminClient(url: url, keyVariable: adminKeyEnv, client: client)
                var filter = ""
                if let namespace { filter = "&namespace=\(namespace)" }
                if let label {
                    filter = "&label=" + (label.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? label)
                }
                var keys: [String] = []
                while true {
                    let after = keys.last.map { "&after=\($0)" } ?? ""
                    let page = try await gateway.send(.GET, "/v1/cache/entries?limit=100\(filter)\(after)")
                    guard page.status == 200, let data = page.json["data"]?.arrayValue else {
                        throw CommandFailure("the gateway refused to list its entries: \(AdminClient.message(page))")
                    }
                    keys += data.compactMap { $0["id"]?.stringValue }
                    if page.json["has_more"]?.boolValue != true || data.isEmpty { break }
                }
                var count = 0
                for key in keys.reversed() {
                    let answer = try await gateway.send(.GET, "/v1/cache/entries/\(key)")
                    if answer.status == 404 { continue }  // expired or deleted since it was listed
                    guard answer.status == 200 else {
                        throw CommandFailure("the gateway refused entry \(key): \(AdminClient.message(answer))")
                    }
                    try sink.write(answer.json)
                    count += 1
                }
                return count
            }
        }
    }
}

/// Where an export's lines go: standard output, or a temporary file beside `path` that replaces
/// it only once every line is written, so that a failed export never leaves a partial file that
/// looks whole. A pipe or device (`/dev/stdout`, a FIFO) is written as it is: renamed over, it
/// would be replaced by a plain file.
struct ExportSink {
    let path: String?
    let temporary: String?
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(path: String?) throws {
        self.path = path
        guard let path else {
            temporary = nil
            handle = .standardOutput
            return
        }
        if TextFile.isStream(path) {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            temporary = nil
            self.handle = handle
            return
        }
        let temporary = "\(path).\(getpid()).deja-tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        self.temporary = temporary
        self.handle = handle
    }

    mutating func write(_ line: JSONValue) throws {
        buffer += line.canonicalData
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw CommandFailure("cannot write \(path ?? "standard output"): \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finish() throws {
        try flush()
        guard let path, let temporary else { return }
        // Durable before it takes the name, so that the name never holds less than the export.
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw CommandFailure("cannot write \(path): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        unlink(temporary)
    }
}
