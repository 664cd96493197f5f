import Embedding
import Foundation
import Testing

/// An embedder that records what it was asked, with a vector that names the text.
final class RecordingEmbedder: Embedder, @unchecked Sendable {
    let dimension = 2
    let identity = "recording-v1"
    private let lock = NSLock()
    private var batches: [[String]] = []

    func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        lock.withLock { batches.append(texts) }
        return texts.map { [Float($0.count), 1] }
    }

    var asked: [[String]] { lock.withLock { batches } }
}

@Suite("MemoizedEmbedder")
struct MemoizedEmbedderTests {
    @Test("a text embedded recently is answered from memory, in order, with only the others sent on")
    func remembers() async throws {
        let base = RecordingEmbedder()
        let memo = MemoizedEmbedder(base, entries: 100)
        #expect(memo.identity == base.identity && memo.dimension == base.dimension)
        let first = try await memo.embed(["a", "bb"])
        let second = try await memo.embed(["bb", "ccc", "a"])
        #expect(first == [[1, 1], [2, 1]])
        #expect(second == [[2, 1], [3, 1], [1, 1]])
        #expect(base.asked == [["a", "bb"], ["ccc"]])
        #expect(memo.counts == (remembered: 2, embedded: 3))
    }

    @Test("bounded: beyond two generations the oldest texts are forgotten; a text asked for stays")
    func bounded() async throws {
        let base = RecordingEmbedder()
        let memo = MemoizedEmbedder(base, entries: 4)
        _ = try await memo.embed(["keep"])
        for i in 0..<20 {
            _ = try await memo.embed(["text \(i)"])
            _ = try await memo.embed(["keep"])  // asked all along: never forgotten
        }
        _ = try await memo.embed(["text 0"])  // long gone: embedded again
        let flat = base.asked.flatMap { $0 }
        #expect(flat.filter { $0 == "keep" }.count == 1)
        #expect(flat.filter { $0 == "text 0" }.count == 2)
        let long = String(repeating: "x", count: MemoizedEmbedder.longestText + 1)
        _ = try await memo.embed([long])
        _ = try await memo.embed([long])
        #expect(base.asked.flatMap { $0 }.filter { $0 == long }.count == 2, "a very long text is not kept")
    }

    @Test("0 entries is the embedder itself")
    func off() {
        let base = RecordingEmbedder()
        #expect(MemoizedEmbedder.wrap(base, entries: 0) as AnyObject === base)
        #expect(MemoizedEmbedder.wrap(base, entries: 8) is MemoizedEmbedder)
    }
}
