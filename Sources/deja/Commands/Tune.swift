import DejaSupport
import ArgumentParser
import AsyncHTTPClient
import Embedding
import Foundation
import Gateway
import SemanticCache

extension Deja {
    /// `deja tune`: precision and recall of the hit decision over thresholds, on labelled pairs.
    struct Tune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure precision and recall of cache hits over thresholds on labelled pairs.",
            discussion: """
                PAIRS is a JSONL file of {"a": ..., "b": ..., "same": true|false}. The cache holds every \
                a; each b is looked up against all of them. With the verifier (the default), b hits a \
                when the verifier's probability reaches the threshold; with --no-verifier, when their \
                similarity does and the false-positive guard lets it through. Prints precision, recall \
                and F1 per threshold, the ROC AUC, what a cache of the pairs would serve, and the \
                threshold with the best recall at --precision. --train fits a verifier instead.
                """)

        @Argument(help: "Labelled pairs (JSONL).") var pairs: String = "fixtures/pairs.jsonl"
        @OptionGroup var options: ConfigOptions
        @Option(help: "Embedder to measure instead of the configuration's (hashing, remote, minilm).")
        var embedder: String?
        @Option(help: "Target precision for the recommended threshold.") var precision = 0.95
        @Option(help: "Threshold step.") var step: Float = 0.01
        @Flag(help: "Without the verifier: measure the similarity, with the false-positive guard's vetoes.")
        var noVerifier = false
        @Flag(help: "With --no-verifier: measure raw similarity, without the false-positive guard.") var noGuard = false
        @Option(help: "A verifier model file to measure instead of the configuration's (cache.verifier.model).")
        var verifier: String?
        @Option(help: "Store the recommended threshold in this configuration file: as cache.threshold, or with --model as that model's threshold.")
        var write: String?
        @Option(help: "Tune for one model of the configuration's models: section (its pairs, its own threshold).")
        var model: String?
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Also list the N pairs judged worst at the recommended (or configured) threshold.")
        var details = 0
        @Flag(help: "Train a verifier on the pairs (their split field, else 70% of them) and judge it on the rest.")
        var train = false
        @Option(help: "With --train: write the model to this file.") var output: String?
        @Option(help: "With --train: the seed of the hold-out split when the file has none.") var seed: UInt64 = 1
        @Option(help: "With --train: the L2 penalty on the weights.") var l2 = 1.0
        @Option(help: "With --train: the lowest similarity the verifier weighs (default: just under the similar pairs').")
        var floor: Float?
        @Flag(help: "Replay the pairs as traffic: per-entry verification at --target-error-rate against the best static threshold.")
        var replay = false
        @Option(help: "With --replay: the error rate to stay under.") var targetErrorRate = 0.02
        @Option(help: "With --replay: how often each prompt is asked.") var rounds = 5
        @Flag(help: "Read PAIRS as a shadow log (cache.shadow_log) and report what each threshold would have served.")
        var shadow = false

        func validate() throws {
            guard precision > 0 && precision <= 1 else { throw ValidationError("--precision must be in (0, 1]") }
            guard step >= 0.001 && step <= 0.5 else { throw ValidationError("--step must be between 0.001 and 0.5") }
            if let model, model.isEmpty || model == "*" {
                throw ValidationError("--model names one model of models:; for every model, leave it out (cache.threshold)")
            }
            // Found out before the pairs are measured, not after.
            if let write {
                let folder = URL(fileURLWithPath: write).deletingLastPathComponent().path
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                    throw ValidationError("--write \(write): the folder \(folder) does not exist")
                }
            }
        }

        func run() async throws {
            var configuration = try options.load()
            if let embedder { configuration.embedder.kind = try EmbedderKindOption.parse(embedder) }
            try await HTTPClient.withHTTPClient(configuration: .deja()) { client in
                try await tune(configuration, client: client)
            }
        }

        func tune(_ configuration: DejaConfiguration, client: HTTPClient) async throws {
            if shadow { return try shadowReport(configuration) }
            let measured = try await configuration.embedder.makeEmbedder(client: client)
            let file = try LabelledPair.read(jsonl: pairs, model: model)
            if train { return try await self.train(configuration, embedder: measured, file: file) }
            var settings = configuration.cache.verifier
            if noVerifier || noGuard { settings.enabled = false }
            if let verifier { settings.model = verifier }
            if case .verifier(let verifierModel) = try HitDecision.resolve(settings, embedder: measured.identity).decision {
                if replay { return try await replayTraffic(verifierModel, configuration, embedder: measured, file: file) }
                return try await evaluateVerifier(verifierModel, configuration, embedder: measured, file: file)
            }
            if replay { throw CommandFailure("--replay needs a verifier; this embedder has none (train one with --train)") }
            let report = try await ThresholdTuner.evaluate(
                pairs: file.pairs, embedder: measured, guardChecks: noGuard ? nil : configuration.cache.guardChecks,
                targetPrecision: precision, step: step)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                // What the model's requests get now: its route's threshold, a matching override,
                // or the global one.
                let configured = configuration.effectiveCache.threshold(
                    model: model ?? "", label: model.map { "-/\($0)" } ?? "-",
                    fallback: HitDecision.cosine.defaultThreshold(embedder: measured.identity))
                var skipped: [String] = []
                if file.unlabelled > 0 { skipped.append("\(file.unlabelled) not labelled yet (same: null)") }
                if file.otherModels > 0 { skipped.append("\(file.otherModels) of other models than \(model ?? "")") }
                if !skipped.isEmpty { print("left out: " + skipped.joined(separator: ", ")) }
                print(Self.table(report, configured: configured))
                if details > 0 {
                    print(Self.mistakes(report, at: report.recommended?.threshold ?? configured, count: details))
                }
            }
            if let write {
                guard let recommended = report.recommended else {
                    throw CommandFailure("no threshold reaches precision \(precision); nothing written to \(write)")
                }
                try Self.writeThreshold(recommended.threshold, model: model, to: write)
                let option = model.map { "models.\($0).threshold" } ?? "cache.threshold"
                print("wrote \(option): \(String(format: "%.3f", recommended.threshold)) to \(write)")
            }
        }

        static func table(_ r: TuningReport, configured: Float) -> String {
            var out = "embedder: \(r.embedder)\n"
            out += "pairs: \(r.pairs) (\(r.positives) same, \(r.pairs - r.positives) different); guard: "
            out += r.guardEnabled
                ? "on, refused \(r.guardRejections) pairs (\(r.guardRejectedPositives) of them same)\n" : "off\n"
            out += String(format: "ROC AUC: %.4f\n\n", r.auc)
            out += "threshold  precision  recall     F1   TP   FP   FN\n"
            let marks = Set([r.recommended?.threshold, r.bestF1?.threshold].compactMap { $0 })
            for row in r.rows {
                let t = row.threshold
                let shown = (Int((t * 100).rounded()) % 5 == 0 && t >= 0.5) || marks.contains(t)
                    || abs(t - configured) < 0.0005
                guard shown else { continue }
                var note = ""
                if t == r.recommended?.threshold { note += "  <- best recall at precision ≥ \(r.targetPrecision)" }
                if t == r.bestF1?.threshold { note += "  <- best F1" }
                if abs(t - configured) < 0.0005 { note += "  (configured)" }
                out += String(format: "%9.3f  %9.3f  %6.3f  %5.3f %4d %4d %4d", t, row.precision, row.recall, row.f1,
                              row.truePositives, row.falsePositives, row.falseNegatives) + note + "\n"
            }
            if let rec = r.recommended {
                out += String(format: "\nrecommended threshold: %.3f (precision %.3f, recall %.3f)\n",
                              rec.threshold, rec.precision, rec.recall)
            } else {
                out += "\nno threshold reaches precision \(r.targetPrecision)\n"
            }
            return out
        }

        /// The false positives with the highest similarity and the false negatives with the lowest.
        static func mistakes(_ r: TuningReport, at threshold: Float, count: Int) -> String {
            let wrongHits = r.scores.filter { !$0.pair.same && $0.rejection == nil && $0.similarity >= threshold }
                .sorted { $0.similarity > $1.similarity }.prefix(count)
            let missed = r.scores.filter { $0.pair.same && ($0.rejection != nil || $0.similarity < threshold) }
                .sorted { $0.similarity < $1.similarity }.prefix(count)
            var out = String(format: "\nwrong hits at %.3f (different, similar enough, not refused by the guard):\n", threshold)
            for s in wrongHits {
                out += String(format: "  %.3f  [%@] %@  |  %@\n", s.similarity, s.pair.kind ?? "-", s.pair.a, s.pair.b)
            }
            out += String(format: "missed at %.3f (same, but below the threshold or refused):\n", threshold)
            for s in missed {
                let why = s.rejection.map { "guard: \($0)" } ?? String(format: "%.3f", s.similarity)
                out += "  \(why)  \(s.pair.a)  |  \(s.pair.b)\n"
            }
            return out
        }

        /// Sets `cache.threshold`, or `models.<model>.threshold`, in the file, keeping its
        /// comments, and checks that the result still loads and says so before replacing it.
        static func writeThreshold(_ threshold: Float, model: String?, to path: String) throws {
            let text = FileManager.default.fileExists(atPath: path) ? try TextFile.read(path) : ""
            let value = String(format: "%.3f", threshold)
            let option = model.map { "models.\($0).threshold" } ?? "cache.threshold"
            let keys = model.map { ["models", $0, "threshold"] } ?? ["cache", "threshold"]
            guard let updated = ConfigFileEditor.set(path: keys, value: value, in: text) else {
                throw CommandFailure(
                    "\(path) has no block-style entry models.\(model ?? ""); add the model under models: (or add "
                    + "threshold: \(value) to it by hand)")
            }
            let check = path + ".deja-check.yaml"
            try TextFile.write(updated, to: check)
            defer { try? FileManager.default.removeItem(atPath: check) }
            let loaded = try DejaConfiguration.load(path: check, environment: [:])
            let written = model.map { loaded.models[$0]?.threshold } ?? loaded.cache.threshold
            guard let written, abs(written - threshold) < 0.001 else {
                throw CommandFailure("could not set \(option) in \(path); edit it by hand")
            }
            try TextFile.write(updated, to: path)
        }
    }
}

/// `--embedder hashing|remote|minilm`.
enum EmbedderKindOption {
    static func parse(_ text: String) throws -> EmbedderConfiguration.Kind {
        guard let kind = EmbedderConfiguration.Kind(rawValue: text) else {
            let all = EmbedderConfiguration.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--embedder must be one of \(all), got '\(text)'")
        }
        return kind
    }
}
