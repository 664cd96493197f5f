import DejaSupport
import ArgumentParser
import Foundation
import NIOSSL
import Embedding
import Gateway
import NIOCore
import NIOFoundationEssentialsCompat
import SemanticCache
import VectorIndex

extension Deja {
    /// `deja bench gateway`: requests per second and latency of a running gateway.
    struct BenchGateway: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gateway",
            abstract: "Load a running gateway with chat requests and report throughput and latency.",
            discussion: """
                First sends each of --warm prompts once so that they are cached, then keeps --concurrency \
                keep-alive connections busy for --duration seconds: with probability --hit-ratio a request \
                repeats a warmed prompt (a hit), otherwise it asks something new (a miss, answered by the \
                upstream). Reports requests per second and p50/p90/p99 latency, split by the x-deja-cache \
                header. With --direct URL it also runs the misses against that upstream directly, to show \
                the latency Deja adds to a miss. With --stream every request asks for a stream, and the \
                time to the first event is reported beside the time to the end.
                """)

        @Option(help: "The gateway (http or https).") var url = "http://127.0.0.1:8080"
        @Option(help: "A PEM certificate to trust for an https --url (a self-signed one); else the system's roots.")
        var cacert: String?
        @Option(help: "Call this upstream directly too (e.g. the mock upstream's URL), for the miss overhead.")
        var direct: String?
        @Option(help: "Open connections.") var concurrency = 64
        @Option(help: "Seconds of load.") var duration = 10.0
        @Option(help: "Prompt file, one prompt per line.") var prompts = "fixtures/prompts.txt"
        @Option(help: "Fraction of requests that repeat a warmed prompt.") var hitRatio = 0.9
        @Option(help: "Prompts sent once before the run, to be cached.") var warm = 200
        @Option(help: "Model name to ask for.") var model = "gpt-4o-mini"
        @Option(help: "Event-loop threads of the load generator.") var threads = 1
        @Option(help: "Requests per second to send at most, spread over the connections (default: as fast as answered).")
        var rate: Double?
        @Option(name: .customLong("header"), help: "An extra request header, 'name: value' (repeatable).")
        var headers: [String] = []
        @Option(help: "A file of Deja keys, one per line (server.auth: keys): each connection uses the next.")
        var keysFile: String?
        @Flag(help: "Ask for streams (\"stream\": true) and report the time to the first event too.") var stream = false
        @Option(help: """
            Store this many generated entries through the lookup API before warming up (the admin key in \
            DEJA_ADMIN_KEY), so that semantic lookups search a cache of that size.
            """)
        var fill = 0
        @Flag(help: "Ask each repeated prompt reworded (a word added in front): a semantic hit, not an exact one.")
        var paraphrase = false
        @Option(help: "The gateway's process id: reports its CPU time per request (from /proc) during the load.")
        var serverPid: Int32?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (0...1).contains(hitRatio) else { throw ValidationError("--hit-ratio must be between 0 and 1") }
            guard fill >= 0 else { throw ValidationError("--fill must not be negative") }
            guard concurrency >= 1, duration > 0, warm >= 1, threads >= 1 else {
                throw ValidationError("--concurrency, --duration, --warm and --threads must be positive")
            }
            if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        }

        /// The client side of an `https` URL: the system's roots, or only `cacert`.
        static func tlsContext(trusting cacert: String?) throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let cacert {
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(cacert)
                } catch {
                    throw CommandFailure("--cacert \(cacert): not a readable PEM certificate")
                }
                configuration.trustRoots = .certificates(certificates)
            }
            return try NIOSSLContext(configuration: configuration)
        }

        struct Latency: Codable {
            var requests: Int
            var p50Milliseconds: Double
            var p90Milliseconds: Double
            var p99Milliseconds: Double
            /// The time to the first body bytes: a stream's first event.
            var firstByteP50Milliseconds: Double
        }

        struct Report: Codable {
            /// The machine the load ran on (the gateway's too, when it runs on the same host).
            var machine: MachineProfile
            var url: String
            var stream: Bool
            var concurrency: Int
            var seconds: Double
            var requestsPerSecond: Double
            var errors: Int
            var hitRate: Double
            var all: Latency
            var byCache: [String: Latency]
            var direct: Latency?
            var addedMissLatencyP50Milliseconds: Double?
            var addedMissFirstByteP50Milliseconds: Double?
            /// The server's CPU time (user + system) during the load divided by its requests.
            var serverCPUMicrosecondsPerRequest: Double?
        }

        /// What one run sends: the prompts that repeat (warmed first) and those that miss, as
        /// request bodies.
        struct Workload: Sendable {
            var warmBodies: [ByteBuffer]
            /// What the measured repeats send: the warmed bodies, or with --paraphrase the same
            /// prompts reworded.
            var repeatBodies: [ByteBuffer]
            var fresh: [String]
            var model: String
            var stream: Bool
            /// Part of every miss prompt, so that a second run against the same cache still misses.
            var run = String(UInt32.random(in: 0...UInt32.max), radix: 36)

            func body(_ prompt: String) -> ByteBuffer {
                Self.body(prompt, model: model, stream: stream)
            }

            static func body(_ prompt: String, model: String, stream: Bool) -> ByteBuffer {
                var json = CacheKeys.plainChatBody(model: model, prompt: prompt, system: nil)
                if stream, case .object(var fields) = json {
                    fields["stream"] = true
                    json = .object(fields)
                }
                return ByteBuffer(data: json.canonicalData)
            }
        }

        func run() throws {
            let workload = try makeWorkload()
            guard let target = URL(string: url), let host = target.host, let port = target.port else {
                throw ValidationError("--url must look like http://127.0.0.1:8080, got '\(url)'")
            }
            let tls = try target.scheme == "https" ? Self.tlsContext(trusting: cacert) : nil
            if fill > 0 { try fillCache(workload, host: host, port: port, tls: tls) }
            try warmUp(workload, host: host, port: port, tls: tls)
            let cpuBefore = serverPid.flatMap(ProcessStats.cpuSeconds(pid:))
            if let serverPid, cpuBefore == nil { throw CommandFailure("--server-pid \(serverPid): no such process") }
            var report = try measure(workload, host: host, port: port, tls: tls)
            if let serverPid, let cpuBefore, let cpuAfter = ProcessStats.cpuSeconds(pid: serverPid), report.all.requests > 0 {
                report.serverCPUMicrosecondsPerRequest = (cpuAfter - cpuBefore) * 1e6 / Double(report.all.requests)
            }
            if let direct, let d = URL(string: direct), let dHost = d.host, let dPort = d.port {
                try measureDirect(workload, host: dHost, port: dPort, path: d.path, into: &report)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.table(report))
            }
        }

        /// The keys of `--keys-file`, if given.
        func keys() throws -> [String] {
            guard let keysFile else { return [] }
            let keys = try TextFile.read(keysFile).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            guard !keys.isEmpty else { throw CommandFailure("--keys-file \(keysFile) holds no keys") }
            return keys
        }

        /// The prompts file split into the `--warm` prompts that repeat and the rest, which miss.
        func makeWorkload() throws -> Workload {
            let lines = try TextFile.read(prompts).split(separator: "\n").map(String.init)
                .filter { !$0.isEmpty }
            guard lines.count > 1 else { throw CommandFailure("\(prompts) needs at least two prompts") }
            let warmed = Array(lines.prefix(min(warm, lines.count / 2)))
            let model = self.model
            let stream = self.stream
            let asked = paraphrase ? warmed.map(Self.reworded) : warmed
            return Workload(
                warmBodies: warmed.map { Workload.body($0, model: model, stream: stream) },
                repeatBodies: asked.map { Workload.body($0, model: model, stream: stream) },
                fresh: Array(lines.dropFirst(warmed.count)), model: model, stream: stream)
        }

        /// A prompt asked another way: "Please" in front, which changes the exact key but hardly
        /// the meaning (the verifier serves it at the shipped thresholds).
        static func reworded(_ prompt: String) -> String {
            "Please " + (prompt.first.map { $0.lowercased() + prompt.dropFirst() } ?? prompt)
        }

        /// `--fill` entries through `POST /v1/cache/entries`: sentences of 8 to 24 words drawn
        /// (seeded) from the prompts' own words, in the namespace the measured requests use.
        func fillCache(_ workload: Workload, host: String, port: Int, tls: NIOSSLContext?) throws {
            guard let adminKey = ProcessInfo.processInfo.environment["DEJA_ADMIN_KEY"], !adminKey.isEmpty else {
                throw CommandFailure("--fill stores entries through the lookup API: set DEJA_ADMIN_KEY to the gateway's admin key")
            }
            let words = Array(Set(workload.fresh.flatMap { $0.split(separator: " ").map(String.init) })).sorted()
            let count = fill
            let model = self.model
            let connections = min(concurrency, 16)
            var load = GatewayLoad(
                host: host, port: port, concurrency: connections, duration: 24 * 3600, threads: threads,
                makeBody: { c, n in
                    let i = c + n * connections
                    guard i < count else { return ByteBuffer() }
                    var rng = SplitMix64(seed: UInt64(i) &+ 0x5eed)
                    let length = 8 + Int(rng.next() % 17)
                    let prompt = (0..<length).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
                    let entry: JSONValue = .object([
                        "prompt": .string(prompt + " \(i)"), "model": .string(model), "response": .string("filler answer \(i)"),
                    ])
                    return ByteBuffer(data: entry.canonicalData)
                })
            load.path = "/v1/cache/entries"
            load.headers = [("Authorization", "Bearer \(adminKey)")]
            load.stopOnEmptyBody = true
            load.tls = tls
            let start = nowNanoseconds()
            let (samples, _, errors) = try load.run()
            let stored = samples.filter { $0.status == 201 }.count
            guard stored == count, errors == 0 else {
                throw CommandFailure("--fill: the gateway stored \(stored) of \(count) entries (\(errors) errors)")
            }
            FileHandle.standardError.write(Data(
                String(format: "filled: %d entries in %.1f s\n", count, Double(nowNanoseconds() - start) / 1e9).utf8))
        }

        /// Every warmed prompt once, on as many connections as there are prompts to spread, so
        /// that the measured repeats are hits.
        func warmUp(_ workload: Workload, host: String, port: Int, tls: NIOSSLContext?) throws {
            let warmBodies = workload.warmBodies
            let warmCount = warmBodies.count
            let warmConnections = min(concurrency, warmCount)
            var warmLoad = GatewayLoad(
                host: host, port: port, concurrency: warmConnections, duration: 3600, threads: threads,
                makeBody: { c, n in
                    let i = c + n * warmConnections
                    return i < warmCount ? warmBodies[i] : ByteBuffer()
                })
            warmLoad.stopOnEmptyBody = true
            warmLoad.tls = tls
            warmLoad.keys = try keys()
            _ = try warmLoad.run()
            Thread.sleep(forTimeInterval: 1)
        }

        /// `--duration` seconds of load: each request repeats a warmed prompt with probability
        /// `--hit-ratio`, otherwise asks something new.
        func measure(_ workload: Workload, host: String, port: Int, tls: NIOSSLContext?) throws -> Report {
            let ratio = hitRatio
            let makeBody: @Sendable (Int, Int) -> ByteBuffer = { c, n in
                var rng = SplitMix64(seed: UInt64(c) << 32 | UInt64(n))
                if Double(rng.next() % 10_000) / 10_000 < ratio {
                    return workload.repeatBodies[Int(rng.next() % UInt64(workload.repeatBodies.count))]
                }
                let prompt = workload.fresh[Int(rng.next() % UInt64(workload.fresh.count))]
                return workload.body(prompt + " (question \(workload.run)-\(c)-\(n))")
            }
            var load = GatewayLoad(
                host: host, port: port, concurrency: concurrency, duration: duration, threads: threads, makeBody: makeBody)
            load.interval = rate.map { .nanoseconds(Int64(Double(concurrency) / $0 * 1e9)) }
            load.tls = tls
            load.keys = try keys()
            load.headers = try headers.map { h in
                let parts = h.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--header must be 'name: value', got '\(h)'") }
                return (String(parts[0]).trimmingCharacters(in: .whitespaces), String(parts[1]).trimmingCharacters(in: .whitespaces))
            }
            let (samples, seconds, errors) = try load.run()
            var byCache: [String: Latency] = [:]
            for kind in Set(samples.map(\.cache)) {
                byCache[kind] = Self.latency(samples.filter { $0.cache == kind })
            }
            let hits = samples.filter { $0.cache == "hit" || $0.cache == "semantic-hit" }.count
            return Report(
                machine: .current, url: url, stream: stream, concurrency: concurrency, seconds: seconds, requestsPerSecond: Double(samples.count) / seconds,
                errors: errors, hitRate: samples.isEmpty ? 0 : Double(hits) / Double(samples.count),
                all: Self.latency(samples), byCache: byCache)
        }

        /// The same kind of misses sent straight to the upstream, for the latency Deja adds.
        func measureDirect(_ workload: Workload, host: String, port: Int, path: String, into report: inout Report) throws {
            let fresh = workload.fresh
            var directLoad = GatewayLoad(
                host: host, port: port, concurrency: concurrency, duration: min(duration, 5), threads: threads,
                makeBody: { c, n in workload.body(fresh[(c * 7919 + n) % fresh.count] + " (direct \(workload.run)-\(c)-\(n))") })
            directLoad.path = (path.isEmpty || path == "/" ? "/v1" : path) + "/chat/completions"
            let (directSamples, _, _) = try directLoad.run()
            report.direct = Self.latency(directSamples)
            if let miss = report.byCache["miss"] ?? report.byCache["bypass"], let directLatency = report.direct {
                report.addedMissLatencyP50Milliseconds = miss.p50Milliseconds - directLatency.p50Milliseconds
                report.addedMissFirstByteP50Milliseconds = miss.firstByteP50Milliseconds - directLatency.firstByteP50Milliseconds
            }
        }

        static func latency(_ samples: [GatewayLoad.Sample]) -> Latency {
            let ms = samples.map { Double($0.nanoseconds) / 1e6 }
            return Latency(
                requests: samples.count, p50Milliseconds: ms.percentile(50), p90Milliseconds: ms.percentile(90),
                p99Milliseconds: ms.percentile(99),
                firstByteP50Milliseconds: samples.map { Double($0.firstByteNanoseconds) / 1e6 }.percentile(50))
        }

        static func table(_ r: Report) -> String {
            var out = "\(r.machine)\n"
            out += String(
                format: "%@: %d connections, %.1f s: %.0f requests/s, hit rate %.3f, %d errors\n",
                r.url, r.concurrency, r.seconds, r.requestsPerSecond, r.hitRate, r.errors)
            out += "              requests   req/s    p50 ms   p90 ms   p99 ms   first byte p50 ms\n"
            func row(_ name: String, _ l: Latency) -> String {
                name.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: " %9d %7.0f %9.3f %8.3f %8.3f %11.3f\n", l.requests, Double(l.requests) / r.seconds,
                             l.p50Milliseconds, l.p90Milliseconds, l.p99Milliseconds, l.firstByteP50Milliseconds)
            }
            out += row("all", r.all)
            for (kind, l) in r.byCache.sorted(by: { $0.key < $1.key }) { out += row(kind, l) }
            if let d = r.direct {
                out += String(format: "direct upstream misses: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, first byte p50 %.3f ms (%d requests)\n",
                              d.p50Milliseconds, d.p90Milliseconds, d.p99Milliseconds, d.firstByteP50Milliseconds, d.requests)
            }
            if let cpu = r.serverCPUMicrosecondsPerRequest {
                out += String(format: "server CPU per request: %.1f µs\n", cpu)
            }
            if let added = r.addedMissLatencyP50Milliseconds {
                out += String(format: "latency Deja adds to a miss (p50): %.3f ms\n", added)
            }
            if r.stream, let added = r.addedMissFirstByteP50Milliseconds {
                out += String(format: "latency Deja adds to a streamed miss's first event (p50): %.3f ms\n", added)
            }
            return out
        }
    }
}

