import ArgumentParser
import DejaSupport
import Foundation
import Gateway

extension Deja {
    /// `deja guard`: the DLP detectors and the injection guard, offline.
    struct Guard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Try the guards on text, and measure them on labelled fixtures.",
            subcommands: [Scan.self, Eval.self, DLP.self])

        /// The guards to try: the configuration's, or every detector redacting and the injection
        /// guard flagging when no configuration is given.
        static func guards(_ options: ConfigOptions) throws -> GuardsConfiguration {
            guard options.config != nil else {
                var g = GuardsConfiguration()
                g.dlp = DLPConfiguration(prompt: .redact, answer: .redact)
                g.injection.action = .flag
                return g
            }
            return try options.load().guards
        }

        /// `deja guard scan`: what the guards make of a text.
        struct Scan: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the values DLP finds in a text, the text as a provider would get it, and its injection score.")

            @Argument(help: "The text (default: standard input).") var text: String?
            @Option(help: "Model name, for deny-lists and injection settings that name routes.") var model = "gpt-4o-mini"
            @OptionGroup var options: ConfigOptions

            func run() async throws {
                let input = text ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                let guards = try Guard.guards(options)
                let dataGuard = DataGuard(guards)
                for f in dataGuard.findings(in: input, .prompt, model: model) {
                    let bytes = Array(input.utf8)[f.start..<f.end]
                    print("\(f.detector) at bytes \(f.start)..<\(f.end): \(String(decoding: bytes, as: UTF8.self))")
                }
                do {
                    print("prompt as sent: " + (try dataGuard.screened(input, .prompt, model: model)))
                } catch {
                    print("prompt refused: \(error.message)")
                }
                let scorer = InjectionScorer(try InjectionPatterns.load(guards.injection.patterns))
                let verdict = scorer.score(input)
                print(String(format: "injection score: %.2f", verdict.score) + (verdict.reasons.isEmpty ? "" : " (" + verdict.reasons.joined(separator: ", ") + ")"))
            }
        }

        /// `deja guard eval`: the injection guard's precision and recall on labelled prompts.
        struct Eval: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Measure the injection guard on labelled prompts: precision and recall by threshold.",
                discussion: """
                    Scores each line of the fixture files ({"text": ..., "injection": true|false, \
                    "family": ...}) with the patterns file and prints precision, recall and F1 at \
                    thresholds from 0.05 to 0.95, recall by family at the threshold in use, and the \
                    threshold with the best F1 on the first file.
                    """)

            @Option(name: .customLong("fixtures"), parsing: .upToNextOption, help: "Labelled JSONL files.")
            var fixtures = ["fixtures/injection/prompts.jsonl", "fixtures/injection/holdout.jsonl"]
            @Option(help: "Patterns file (default: guards.injection.patterns).") var patterns: String?
            @Flag(help: "List the prompts scored wrong at the threshold in use.") var mistakes = false
            @OptionGroup var options: ConfigOptions

            func run() async throws {
                let settings = try Guard.guards(options).injection
                let scorer = InjectionScorer(try InjectionPatterns.load(patterns ?? settings.patterns))
                for file in fixtures {
                    let eval = try InjectionEvaluation(fixtures: try TextFile.read(file), scorer: scorer)
                    let positives = eval.examples.filter(\.injection).count
                    print("\(file): \(eval.examples.count) prompts, \(positives) injections")
                    print("threshold  precision  recall  F1     false+  missed")
                    for p in eval.curve {
                        let mark = abs(p.threshold - settings.threshold) < 1e-9 ? "  <- guards.injection.threshold" : ""
                        print(String(format: "%9.2f  %9.3f  %6.3f  %.3f  %6d  %6d", p.threshold, p.precision, p.recall, p.f1, p.falsePositives, p.misses) + mark)
                    }
                    let best = eval.best
                    print(String(format: "best F1 %.3f at %.2f", best.f1, best.threshold))
                    for f in eval.recallByFamily(at: settings.threshold) {
                        print("  " + f.family.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "recall %.2f of %d", f.recall, f.count))
                    }
                    if mistakes {
                        for e in eval.examples where (e.score >= settings.threshold) != e.injection {
                            print("  \(e.injection ? "missed" : "false+") " + String(format: "%.2f", e.score) + ": " + e.text)
                        }
                    }
                    print("")
                }
            }
        }

        /// `deja guard dlp`: the DLP detectors' precision and recall on labelled text.
        struct DLP: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Measure the DLP detectors on labelled text: precision and recall per detector.",
                discussion: """
                    Reads {"text": ..., "spans": [{"type", "start", "end"}]} lines (offsets in Unicode \
                    scalars; Benchmarks/dlp/generate.py writes fixtures/dlp/labelled.jsonl). A value \
                    found counts when it overlaps a labelled span of its detector. \
                    Benchmarks/dlp/compare.py runs Microsoft Presidio on the same file beside it.
                    """)

            @Argument(help: "The labelled JSONL file.") var file = "fixtures/dlp/labelled.jsonl"
            @Flag(help: "Print JSON.") var json = false
            @Flag(help: "List false positives and misses.") var mistakes = false

            func run() async throws {
                let dataGuard = DataGuard(GuardsConfiguration(dlp: DLPConfiguration(prompt: .redact, answer: .redact)))
                let eval = try DLPEvaluation(labelled: try TextFile.read(file), dataGuard: dataGuard)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(eval.scores), as: UTF8.self))
                    return
                }
                print("detector  precision  recall  found  false+  missed")
                for s in eval.scores {
                    print(s.detector.padding(toLength: 8, withPad: " ", startingAt: 0)
                          + String(format: "  %9.3f  %6.3f  %5d  %6d  %6d", s.precision, s.recall, s.found, s.falsePositives, s.missed))
                }
                if mistakes { for m in eval.mistakes { print("  " + m) } }
            }
        }
    }
}
