import HeapModule

/// A candidate during graph search: a slot and its distance (`1 - cosine`) to the query.
/// Ordered by distance, then slot, so that searches are deterministic.
struct Candidate: Comparable {
    var distance: Float
    var slot: UInt32

    @inline(__always)
    static func < (a: Candidate, b: Candidate) -> Bool {
        a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot)
    }
}
