import Foundation
import Logging
import Synchronization

/// Where and how much of the traffic's own prompt pairs to write for labelling (`cache.pairs_log`).
///
/// Thresholds are best tuned on pairs from one's own traffic, but nobody has those labelled.
/// With a file named, the cache appends the pairs it had to judge, with `same: null`: every
/// semantic hit (the cached prompt and the query it answered), and every miss whose best
/// candidate came within `band` of the threshold, refused by the guard or not. Someone sets
/// `same` to true or false on some of them and runs `deja tune` on the file. The file holds
/// prompt text, so it is off by default and made readable by its owner only.
public struct PairsLogConfiguration: Codable, Sendable, Equatable {
    /// The JSONL file; empty: off. Relative paths are resolved against the configuration's folder.
    public var file: String
    /// How far below the threshold a miss's best candidate may be and still be written.
    public var band: Float
    /// Lines the file may hold; past them nothing more is written (delete or move the file to
    /// start again).
    public var maxPairs: Int

    public init(file: String = "", band: Float = 0.1, maxPairs: Int = 10_000) {
        self.file = file
        self.band = band
        self.maxPairs = maxPairs
    }

    enum CodingKeys: String, CodingKey {
        case file, band, maxPairs = "max_pairs"
    }

    public init(from decoder: any Decoder) throws {
        let d = PairsLogConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decodeIfPresent(String.self, forKey: .file) ?? d.file
        band = try c.decodeIfPresent(Float.self, forKey: .band) ?? d.band
        maxPairs = try c.decodeIfPresent(Int.self, forKey: .maxPairs) ?? d.maxPairs
    }

    var problems: [String] {
        var out: [String] = []
        if !(0...1).contains(band) { out.append("pairs_log.band: must be between 0 and 1, got \(band)") }
        if maxPairs < 1 { out.append("pairs_log.max_pairs: must be at least 1, got \(maxPairs)") }
        return out
    }
}

/// Appends the pairs of ``PairsLogConfiguration`` to its file, off the lookup's path: a lookup
/// only queues the pair; a task reads the cached prompt from the store and writes the line.
/// A pair already written by this process is not written again (a paraphrase that keeps
/// hitting the same entry is one pair to label, not thousands).
final class _PairsLog: Sendable {
    struct Pair: Sendable {
        var candidate: UInt64
        var query: String
        var similarity: Float
        var threshold: Float
        var served: Bool
        var refusal: String?
        var model: String
        var label: String
        var at: Date
    }

    private let continuation: AsyncStream<Pair>.Continuation
    private let writer: Task<Void, Never>
    /// Set once the file holds `max_pairs` lines, so that lookups stop queueing pairs.
    private let full = _Flag()

    /// Opens (creating, mode 0600) the file and counts the lines it already holds.
    init(configuration: PairsLogConfiguration, store: any CacheStore, logger: Logger) throws(CacheError) {
        let path = configuration.file
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw .invalidConfiguration(["cache.pairs_log.file: cannot create \(path)"])
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path),
              let existing = FileManager.default.contents(atPath: path)
        else {
            throw .invalidConfiguration(["cache.pairs_log.file: cannot open \(path) for writing"])
        }
        var lines = existing.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let (stream, continuation) = AsyncStream.makeStream(of: Pair.self, bufferingPolicy: .bufferingNewest(1024))
        self.continuation = continuation
        let limit = configuration.maxPairs
        let full = self.full
        writer = Task {
            defer { try? handle.close() }
            var written = Set<Int>()
            if lines >= limit {
                full.value.store(true, ordering: .relaxed)
                logger.notice("the pairs log \(path) is full (\(lines) lines, cache.pairs_log.max_pairs)")
            }
            for await pair in stream where lines < limit {
                var seen = Hasher()
                seen.combine(pair.candidate)
                seen.combine(pair.query)
                guard written.insert(seen.finalize()).inserted,
                      let cached = try? await store.entry(key: pair.candidate)?.prompt
                else { continue }
                do {
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data(Self.line(pair, cached: cached).utf8))
                    lines += 1
                } catch {
                    logger.warning("cannot write to the pairs log \(path): \(error)")
                }
                if lines == limit {
                    full.value.store(true, ordering: .relaxed)
                    logger.notice("the pairs log \(path) is full (\(limit) lines); no more pairs are written")
                }
            }
        }
    }

    func record(_ pair: Pair) {
        guard !full.value.load(ordering: .relaxed) else { return }
        continuation.yield(pair)
    }

    /// Writes what is queued, then stops.
    func close() async {
        continuation.finish()
        await writer.value
    }

    /// One JSON line, `a`, `b` and `same` first so that a person labelling reads them first.
    static func line(_ pair: Pair, cached: String) -> String {
        func text(_ s: String) -> String { JSONValue.quoted(s) }
        func number(_ x: Float) -> String { String(Double((Double(x) * 10_000).rounded() / 10_000)) }
        var line = "{\"a\": \(text(cached)), \"b\": \(text(pair.query)), \"same\": null"
        line += ", \"similarity\": \(number(pair.similarity)), \"threshold\": \(number(pair.threshold))"
        line += ", \"served\": \(pair.served)"
        if let refusal = pair.refusal { line += ", \"refused\": \(text(refusal))" }
        line += ", \"model\": \(text(pair.model)), \"namespace\": \(text(pair.label)), \"entry\": \(pair.candidate)"
        line += ", \"at\": \(text(pair.at.formatted(.iso8601)))}\n"
        return line
    }
}

/// A flag shared between a lookup and a task (an `Atomic` cannot be copied into one).
final class _Flag: Sendable {
    let value = Atomic<Bool>(false)
}
