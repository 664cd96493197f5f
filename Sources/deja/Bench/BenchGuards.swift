import ArgumentParser
import DejaSupport
import Foundation
import Gateway
import VectorIndex

extension Deja {
    /// `deja bench guards`: how fast DLP and the injection guard read text.
    struct BenchGuards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "guards",
            abstract: "Measure DLP and the injection guard: MB/s of prompt text on one core, and the cost per prompt.",
            discussion: """
                Reads the texts of --file (fixtures/dlp/labelled.jsonl and the injection fixtures by \
                default), and runs every DLP detector over each text, as the gateway does per prompt, \
                for --seconds; then the injection scorer. The reference, in the same run: Foundation's \
                NSRegularExpression (ICU) with one e-mail pattern over the same texts, the usual \
                way to do the first of seven detectors.
                """)

        @Option(help: "JSONL files whose \"text\" fields are scanned.")
        var file = ["fixtures/dlp/labelled.jsonl", "fixtures/injection/prompts.jsonl"]
        @Option(help: "Seconds each measurement runs.") var seconds = 2.0
        @Flag(help: "Print JSON.") var json = false

        struct Report: Codable {
            var machine: MachineProfile
            var texts: Int
            var bytes: Int
            var dlpMBps: Double
            var dlpNanosecondsPerText: Double
            var injectionMBps: Double
            var injectionNanosecondsPerText: Double
            var referenceRegexMBps: Double
            /// A streamed answer screened in chunks of four bytes: cost per chunk, and bytes held
            /// back on average after each chunk (what a client waits for).
            var streamNanosecondsPerChunk: Double
            var streamMeanHeldBytes: Double
        }

        func run() async throws {
            var texts: [String] = []
            for path in file {
                for line in try TextFile.read(path).split(separator: "\n") {
                    if let t = (try? JSONValue.parse(String(line)))?["text"]?.stringValue { texts.append(t) }
                }
            }
            guard !texts.isEmpty else { throw CommandFailure("no texts in \(file.joined(separator: ", "))") }
            let bytes = texts.reduce(0) { $0 + $1.utf8.count }
            let dataGuard = DataGuard(GuardsConfiguration(dlp: DLPConfiguration(prompt: .redact, answer: .redact)))
            let scorer = InjectionScorer(try InjectionPatterns.load("models/injection-patterns.json"))
            let dlp = Self.measure(seconds) { for t in texts { _ = dataGuard.findings(in: t, .prompt).count } }
            let injection = Self.measure(seconds) { for t in texts { _ = scorer.score(t).score } }
            // Streams: each text in 4-byte chunks, as a provider's tokens come.
            let chunked = texts.map { t in stride(from: 0, to: t.utf8.count, by: 4).map { i in
                String(decoding: Array(t.utf8)[i..<min(i + 4, t.utf8.count)], as: UTF8.self) } }
            let chunks = chunked.reduce(0) { $0 + $1.count }
            var held = 0
            let streams = Self.measure(seconds) {
                held = 0
                for pieces in chunked {
                    var sent = 0
                    var total = 0
                    var redactor = AnswerStreamRedactor(dataGuard)
                    for p in pieces {
                        total += p.utf8.count
                        sent += redactor.feed(p).utf8.count
                        held += total - sent
                    }
                    _ = redactor.finish()
                }
            }
            let regex = try NSRegularExpression(pattern: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#)
            let reference = Self.measure(seconds) {
                for t in texts { _ = regex.numberOfMatches(in: t, range: NSRange(location: 0, length: (t as NSString).length)) }
            }
            func mbps(_ passes: Double) -> Double { Double(bytes) * passes / 1e6 }
            let report = Report(
                machine: .current, texts: texts.count, bytes: bytes, dlpMBps: mbps(dlp),
                dlpNanosecondsPerText: 1e9 / (dlp * Double(texts.count)), injectionMBps: mbps(injection),
                injectionNanosecondsPerText: 1e9 / (injection * Double(texts.count)), referenceRegexMBps: mbps(reference),
                streamNanosecondsPerChunk: 1e9 / (streams * Double(chunks)), streamMeanHeldBytes: Double(held) / Double(chunks))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print(MachineProfile.current)
            print("\(texts.count) texts, \(bytes) bytes (mean \(bytes / texts.count) bytes), one core")
            print(String(format: "dlp, 7 detectors:       %7.1f MB/s, %6.0f ns per text", report.dlpMBps, report.dlpNanosecondsPerText))
            print(String(format: "injection scorer:       %7.1f MB/s, %6.0f ns per text", report.injectionMBps, report.injectionNanosecondsPerText))
            print(String(format: "streamed, 4-byte chunks: %6.0f ns per chunk, %.1f bytes held back on average",
                         report.streamNanosecondsPerChunk, report.streamMeanHeldBytes))
            print(String(format: "reference, ICU regex, e-mail only: %.1f MB/s (dlp at %.1f× of it)", report.referenceRegexMBps,
                         report.dlpMBps / report.referenceRegexMBps))
        }

        /// Passes of `body` a second, over about `seconds`.
        static func measure(_ seconds: Double, _ body: () -> Void) -> Double {
            body()
            var passes = 0
            let start = ContinuousClock.now
            var elapsed = 0.0
            repeat {
                body()
                passes += 1
                let d = ContinuousClock.now - start
                elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            } while elapsed < seconds
            return Double(passes) / elapsed
        }
    }
}
