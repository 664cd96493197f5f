internal import CBLAS
import HeapModule

/// The `k` best of a stream of scores: a bounded heap with the worst kept on top, and a
/// threshold test that rejects most scores without touching the heap.
struct TopK {
    let k: Int
    var heap = Heap<Candidate>()
    var worst: Float = .infinity

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k)
    }

    @inline(__always)
    mutating func offer(similarity: Float, row: UInt32) {
        let d = 1 - similarity
        if heap.count < k {
            heap.insert(Candidate(distance: d, slot: row))
            if heap.count == k { worst = heap.max!.distance }
        } else if d < worst {
            heap.replaceMax(with: Candidate(distance: d, slot: row))
            worst = heap.max!.distance
        }
    }

    /// Offers `count` similarities of consecutive rows starting at `firstRow`.
    @inline(__always)
    mutating func offer(scores: UnsafePointer<Float>, count: Int, firstRow: Int) {
        var r = 0
        // Fill the heap, then only scores that beat the current worst touch it.
        while heap.count < k && r < count {
            offer(similarity: scores[r], row: UInt32(firstRow + r))
            r += 1
        }
        // The rest a vector at a time (`deja_first_above`): most blocks have no score to offer.
        while r < count {
            r += deja_first_above(VectorMath.kernel, scores + r, count - r, 1 - worst)
            guard r < count else { break }
            offer(similarity: scores[r], row: UInt32(firstRow + r))
            r += 1
        }
    }

    /// The kept candidates, nearest first.
    func sorted() -> [Candidate] {
        heap.unordered.sorted()
    }
}
