import DejaSupport
import Foundation
import Logging
import Synchronization

/// Appends the pairs of ``PairsLogConfiguration`` to its file, off the lookup's path: a lookup
/// only queues the pair; a task reads the cached prompt from the store and writes the line.
/// A pair already written by this process is not written again (a paraphrase that keeps
/// hitting the same entry is one pair to label, not thousands).
final class PairsLog: Sendable {
    struct Pair: Sendable {
        var candidate: UInt64
        var query: String
        var similarity: Float
        /// The verifier's probability, when it decided.
        var probability: Double?
        var threshold: Float
        var served: Bool
        var refusal: String?
        var model: String
        var label: String
        var at: Date
        /// A verdict on the pair (feedback or verification), when one was given; unlabelled
        /// otherwise.
        var same: Bool? = nil
        var judgedBy: VerdictSource? = nil
        /// The cached prompt, when the pair's maker read it already (a retired entry is gone
        /// from the store by the time the writer would).
        var cached: String? = nil
    }

    private let continuation: AsyncStream<Pair>.Continuation
    private let writer: Task<Void, Never>
    /// Set once the file holds `max_pairs` lines, so that lookups stop queueing pairs.
    private let full = AtomicFlag()

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
                seen.combine(pair.same)
                guard written.insert(seen.finalize()).inserted else { continue }
                var cached = pair.cached
                if cached == nil { cached = try? await store.entry(key: pair.candidate)?.prompt }
                guard let cached else { continue }
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
        var line = "{\"a\": \(text(cached)), \"b\": \(text(pair.query)), \"same\": \(pair.same.map(String.init) ?? "null")"
        line += ", \"similarity\": \(number(pair.similarity))"
        if let p = pair.probability { line += ", \"probability\": \(number(Float(p)))" }
        line += ", \"threshold\": \(number(pair.threshold))"
        line += ", \"served\": \(pair.served)"
        if let refusal = pair.refusal { line += ", \"refused\": \(text(refusal))" }
        if let judge = pair.judgedBy { line += ", \"judged_by\": \(text(judge.rawValue))" }
        line += ", \"model\": \(text(pair.model)), \"namespace\": \(text(pair.label)), \"entry\": \(pair.candidate)"
        line += ", \"at\": \(text(pair.at.formatted(.iso8601)))}\n"
        return line
    }
}

/// A flag shared between a lookup and a task (an `Atomic` cannot be copied into one).
final class AtomicFlag: Sendable {
    let value = Atomic<Bool>(false)
}
