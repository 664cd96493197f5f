import DejaSupport

/// Precision and recall of the DLP detectors on labelled text (`fixtures/dlp/labelled.jsonl`:
/// `{"text": …, "spans": [{"type": "card", "start": 19, "end": 38}]}`, offsets in Unicode
/// scalars), what `deja guard dlp` prints. A value found counts when it overlaps a labelled
/// span of its type; what overlaps none is a false positive, a span nothing overlaps a miss.
public struct DLPEvaluation: Sendable {
    public struct Score: Sendable, Codable {
        public var detector: String
        public var found = 0
        public var falsePositives = 0
        public var missed = 0
        public var precision: Double { found + falsePositives == 0 ? 1 : Double(found) / Double(found + falsePositives) }
        public var recall: Double { found + missed == 0 ? 1 : Double(found) / Double(found + missed) }

        enum CodingKeys: String, CodingKey { case detector, found, falsePositives = "false_positives", missed }
    }

    public var scores: [Score]
    /// Bytes of text scanned.
    public var bytes: Int
    /// The false positives and misses, for a look at what went wrong.
    public var mistakes: [String]

    public init(labelled text: String, dataGuard: DataGuard) throws(InjectionPatternsError) {
        var scores = Dictionary(uniqueKeysWithValues: PIIDetector.allCases.map { ($0.name, Score(detector: $0.name)) })
        var bytes = 0
        var mistakes: [String] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            guard let row = try? JSONValue.parse(String(line)), let sentence = row["text"]?.stringValue, let spans = row["spans"]?.arrayValue else {
                throw InjectionPatternsError("line \(n + 1): not a labelled text ({\"text\": ..., \"spans\": [...]})")
            }
            bytes += sentence.utf8.count
            let labels = spans.compactMap { s -> (String, Int, Int)? in
                guard let type = s["type"]?.stringValue, let a = s["start"]?.intValue, let b = s["end"]?.intValue else { return nil }
                return (type, a, b)
            }
            let found = dataGuard.findings(in: sentence, .prompt).map { f in
                (f.detector, Self.scalarOffset(sentence, f.start), Self.scalarOffset(sentence, f.end))
            }
            let scalars = Array(sentence.unicodeScalars)
            func slice(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(scalars[a..<b])) }
            for (type, a, b) in found where scores[type] != nil {
                if labels.contains(where: { $0.0 == type && $0.1 < b && a < $0.2 }) {
                    scores[type]!.found += 1
                } else {
                    scores[type]!.falsePositives += 1
                    mistakes.append("false \(type): \(slice(a, b)) in: \(sentence)")
                }
            }
            for (type, a, b) in labels where scores[type] != nil && !found.contains(where: { $0.0 == type && $0.1 < b && a < $0.2 }) {
                scores[type]!.missed += 1
                mistakes.append("missed \(type): \(slice(a, b)) in: \(sentence)")
            }
        }
        self.scores = PIIDetector.allCases.compactMap { scores[$0.name] }
        self.bytes = bytes
        self.mistakes = mistakes
    }

    static func scalarOffset(_ text: String, _ utf8Offset: Int) -> Int {
        let index = text.utf8.index(text.utf8.startIndex, offsetBy: utf8Offset)
        return text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: index)
    }
}
