import DejaSupport

/// Precision and recall of the injection guard on labelled prompts (`fixtures/injection/prompts.jsonl`:
/// one `{"text": …, "injection": true|false, "family": …}` a line), what `deja guard eval`
/// prints and the tests hold to a floor.
public struct InjectionEvaluation: Sendable {
    public struct Example: Sendable {
        public var text: String
        public var injection: Bool
        public var family: String?
        public var score: Double
        public var reasons: [String]
    }

    public struct Point: Sendable {
        public var threshold: Double
        public var precision: Double
        public var recall: Double
        public var falsePositives: Int
        public var misses: Int
        public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    }

    public let examples: [Example]

    /// Scores every line of `fixtures`.
    /// - Throws: a message naming the line that is not a labelled prompt.
    public init(fixtures text: String, scorer: InjectionScorer) throws(InjectionPatternsError) {
        var examples: [Example] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let row = try? JSONValue.parse(String(line)), let prompt = row["text"]?.stringValue, let label = row["injection"]?.boolValue else {
                throw InjectionPatternsError("line \(n + 1): not a labelled prompt ({\"text\": ..., \"injection\": true|false})")
            }
            let verdict = scorer.score(prompt)
            examples.append(Example(
                text: prompt, injection: label, family: row["family"]?.stringValue, score: verdict.score, reasons: verdict.reasons))
        }
        self.examples = examples
    }

    public func point(at threshold: Double) -> Point {
        let flagged = examples.filter { $0.score >= threshold }
        let hits = flagged.filter(\.injection).count
        let positives = examples.filter(\.injection).count
        return Point(
            threshold: threshold, precision: flagged.isEmpty ? 1 : Double(hits) / Double(flagged.count),
            recall: positives == 0 ? 1 : Double(hits) / Double(positives), falsePositives: flagged.count - hits,
            misses: positives - hits)
    }

    /// Thresholds from 0.05 to 0.95.
    public var curve: [Point] { stride(from: 0.05, through: 0.951, by: 0.05).map { point(at: ($0 * 100).rounded() / 100) } }

    /// The threshold with the best F1 (the highest of equals: fewer false positives).
    public var best: Point { curve.max { ($0.f1, $0.threshold) < ($1.f1, $1.threshold) }! }

    /// Recall by family at a threshold.
    public func recallByFamily(at threshold: Double) -> [(family: String, recall: Double, count: Int)] {
        let families = Set(examples.compactMap { $0.injection ? $0.family ?? "other" : nil })
        return families.sorted().map { f in
            let mine = examples.filter { $0.injection && ($0.family ?? "other") == f }
            return (f, Double(mine.filter { $0.score >= threshold }.count) / Double(mine.count), mine.count)
        }
    }
}
