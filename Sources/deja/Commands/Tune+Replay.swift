import ArgumentParser
import DejaSupport
import Embedding
import Foundation
import Gateway
import SemanticCache

extension Deja.Tune {
    /// `deja tune --replay`: the pairs as traffic, served at the best static threshold that keeps
    /// the error rate under the target, and with per-entry verification at lower thresholds.
    func replayTraffic(
        _ model: VerifierModel, _ configuration: DejaConfiguration, embedder: any Embedder, file: LabelledPairsFile
    ) async throws {
        let pairs = file.pairs.contains { $0.split != nil } ? file.pairs.filter { $0.split == "test" } : file.pairs
        let cache = try await PairsInCache.build(pairs, embedder: embedder, candidates: configuration.cache.candidates)
        let best = ErrorRateReplay.bestStatic(cache, model: model, target: targetErrorRate, rounds: rounds, seed: seed)
        var adaptive: [ErrorRateReplay.Outcome] = []
        for t in [0.5, 0.6, 0.7, 0.8, model.threshold] {
            adaptive.append(ErrorRateReplay.run(cache, model: model, threshold: t, target: targetErrorRate, rounds: rounds, seed: seed))
        }
        if json {
            struct Output: Encodable { var bestStatic: ErrorRateReplay.Outcome?; var verified: [ErrorRateReplay.Outcome] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(Output(bestStatic: best, verified: adaptive)), as: UTF8.self))
            return
        }
        var out = "embedder: \(embedder.identity)\n"
        out += "traffic: \(cache.lookups.count) prompts asked \(rounds) times each in random order, "
        out += "\(cache.anchors.count) cached prompts; target error rate \(targetErrorRate)\n"
        out += "                                 requests  served (hit rate)   wrong (error rate)  verified\n"
        func row(_ name: String, _ o: ErrorRateReplay.Outcome) -> String {
            name.padding(toLength: 32, withPad: " ", startingAt: 0)
                + String(format: "%8d  %6d (%.3f)  %6d (%.4f)  %8d\n", o.requests, o.served, o.hitRate, o.wrong, o.errorRate, o.verified)
        }
        if let best {
            out += row(String(format: "best static threshold, %.2f", best.threshold), best)
        } else {
            out += "no static threshold keeps the error rate under \(targetErrorRate)\n"
        }
        for o in adaptive {
            out += row(String(format: "verified per entry, from %.2f", o.threshold), o)
        }
        print(out)
    }

    /// `deja tune --shadow FILE`: what each threshold would have served of the shadowed traffic.
    func shadowReport(_ configuration: DejaConfiguration) throws {
        let text = try TextFile.read(pairs)
        struct Record: Decodable {
            var kind: String
            var similarity: Float?
            var probability: Double?
            var agree: Bool?
        }
        var records: [Record] = []
        for (n, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                records.append(try JSONDecoder().decode(Record.self, from: Data(line.utf8)))
            } catch {
                throw CommandFailure("\(pairs):\(n + 1): not a line of a shadow log (cache.shadow_log)")
            }
        }
        guard !records.isEmpty else { throw CommandFailure("\(pairs) holds no shadowed requests yet") }
        let byProbability = records.contains { $0.probability != nil }
        func score(_ r: Record) -> Double? {
            r.kind == "exact" ? 2 : byProbability ? r.probability : r.similarity.map(Double.init)
        }
        var out = "shadowed requests: \(records.count) (\(records.filter { $0.kind == "exact" }.count) exact repeats); "
        out += "scored by \(byProbability ? "the verifier's probability" : "similarity")\n"
        out += "threshold  hit rate  precision  hits  agreed  disagreed\n"
        for t in stride(from: 0.5, through: 0.99, by: 0.01) where Int((t * 100).rounded()) % 5 == 0 || t > 0.95 {
            let hits = records.filter { (score($0) ?? -1) >= t }
            let judged = hits.filter { $0.agree != nil }
            let agreed = judged.filter { $0.agree == true }.count
            let precision = judged.isEmpty ? 1 : Double(agreed) / Double(judged.count)
            out += String(format: "%9.2f  %8.3f  %9.3f  %4d  %6d  %9d\n", t, Double(hits.count) / Double(records.count),
                          precision, hits.count, agreed, judged.count - agreed)
        }
        print(out)
    }
}
