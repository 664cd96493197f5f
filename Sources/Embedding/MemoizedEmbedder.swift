import DejaSupport
import Foundation

/// An embedder that remembers the vectors of the texts it embedded last, so that the same text
/// is not embedded twice in a row.
///
/// The same prompt is embedded again and again in ordinary use: an application of the lookup
/// API looks a prompt up, calls its model and stores the answer under the same prompt; a
/// paraphrase that hits an earlier answer is not stored under its own words, so each time it is
/// asked it is embedded again. With MiniLM that is milliseconds of CPU each time, with a remote
/// embedder a paid request. An embedder's vectors depend only on the text (``Embedder``), so a
/// remembered vector is the vector, and this one has the identity of the embedder it wraps.
///
/// Bounded by entries, in two generations: texts go into the young one, and when that is full
/// the old one is dropped and the young one becomes old; a text found in the old one moves back
/// to the young. That keeps everything asked for since the last turnover, at a dictionary
/// lookup each, without a list to maintain. Texts longer than ``longestText`` bytes are not
/// kept: they are rare as prompts and would hold more memory than their vectors.
public final class MemoizedEmbedder: Embedder, Sendable {
    public let base: any Embedder
    /// How many texts each generation holds; up to twice as many are remembered.
    public let generationSize: Int
    public static let longestText = 4096

    public var dimension: Int { base.dimension }
    public var identity: String { base.identity }

    /// Two generations of remembered vectors, and counters.
    private struct Memory {
        var young: [String: [Float]] = [:]
        var old: [String: [Float]] = [:]
        var remembered = 0
        var embedded = 0
        let generationSize: Int

        /// The vector kept for `text`; one found in the old generation moves to the young.
        mutating func recall(_ text: String) -> [Float]? {
            if let vector = young[text] { return vector }
            guard let vector = old.removeValue(forKey: text) else { return nil }
            keep(text, vector)
            return vector
        }

        mutating func keep(_ text: String, _ vector: [Float]) {
            guard text.utf8.count <= MemoizedEmbedder.longestText else { return }
            young[text] = vector
            if young.count >= generationSize {
                old = young
                young = Dictionary(minimumCapacity: generationSize)
            }
        }
    }

    private let memory: Mutex<Memory>

    /// - Parameter entries: how many texts to remember, at least; at most twice as many are.
    public init(_ base: any Embedder, entries: Int) {
        self.base = base
        self.generationSize = max(1, entries)
        self.memory = Mutex(Memory(generationSize: max(1, entries)))
    }

    /// `base` itself when `entries` is 0, so that turning the memo off costs nothing.
    public static func wrap(_ base: any Embedder, entries: Int) -> any Embedder {
        entries > 0 ? MemoizedEmbedder(base, entries: entries) : base
    }

    public func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        var vectors = [[Float]?](repeating: nil, count: texts.count)
        var missing: [Int] = []
        memory.withLock { m in
            for (i, text) in texts.enumerated() {
                if let vector = m.recall(text) { vectors[i] = vector } else { missing.append(i) }
            }
            m.remembered += texts.count - missing.count
            m.embedded += missing.count
        }
        guard !missing.isEmpty else { return vectors.map { $0! } }
        let fresh = try await base.embed(missing.map { texts[$0] })
        guard fresh.count == missing.count else {
            throw .invalidResponse(source: identity, reason: "\(fresh.count) vectors for \(missing.count) texts")
        }
        memory.withLock { m in
            for (j, i) in missing.enumerated() {
                vectors[i] = fresh[j]
                m.keep(texts[i], fresh[j])
            }
        }
        return vectors.map { $0! }
    }

    public func embed(_ text: NormalizedText) async throws(EmbeddingError) -> [Float] {
        let kept = memory.withLock { m in
            let vector = m.recall(text.source)
            if vector == nil { m.embedded += 1 } else { m.remembered += 1 }
            return vector
        }
        if let kept { return kept }
        let fresh = try await base.embed(text)
        memory.withLock { $0.keep(text.source, fresh) }
        return fresh
    }

    /// Texts answered from memory and texts given to the wrapped embedder, since the start.
    public var counts: (remembered: Int, embedded: Int) {
        memory.withLock { ($0.remembered, $0.embedded) }
    }
}
