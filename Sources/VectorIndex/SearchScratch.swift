import HeapModule

/// Everything one search needs besides the graph, allocated once and reused, so that a search
/// allocates nothing (usearch's per-thread `context_t`).
///
/// - The visited set is a bit per slot (``VisitedSet``); a new search clears the words the last one
///   touched.
/// - `candidates` is a min-heap of the frontier; `results` keeps the `ef` best seen, with the worst
///   on top for `replaceMax(with:)`.
///
/// `@unchecked Sendable`: it owns raw buffers; a scratch object is used by one search at a time,
/// handed out and taken back by ``ScratchPool``.
final class SearchScratch: @unchecked Sendable {
    let dimension: Int
    var visited = VisitedSet()
    var candidates = Heap<Candidate>()
    var results = Heap<Candidate>()
    /// The normalised query.
    let query: UnsafeMutablePointer<Float>
    /// The query being searched rounded to int8, when the graph's vectors are int8 and the CPU
    /// multiplies bytes (``GraphView/quantizesQueries``).
    let queryCodes: UnsafeMutablePointer<Int8>
    /// Unvisited neighbours of the node being expanded, and their inner products with the query.
    let ids: UnsafeMutablePointer<UInt32>
    let dots: UnsafeMutablePointer<Float>
    /// Room for neighbour selection: candidates sorted by distance.
    var selection: [Candidate] = []

    init(dimension: Int, maxNeighbors: Int) {
        self.dimension = dimension
        query = .allocate(capacity: max(dimension, 1))
        queryCodes = .allocate(capacity: max(dimension, 1))
        ids = .allocate(capacity: maxNeighbors + 1)
        dots = .allocate(capacity: maxNeighbors + 1)
        candidates.reserveCapacity(256)
        results.reserveCapacity(256)
        selection.reserveCapacity(256)
    }

    /// Rounds `query` to int8 into ``queryCodes`` when `graph` searches with int8 queries, once
    /// per search or insertion (every level then uses it), and returns its scale; 0 when the
    /// search stays in float.
    func roundQuery(_ query: UnsafePointer<Float>, for graph: GraphView) -> Float {
        graph.quantizesQueries ? VectorMath.quantize(query, dimension: graph.dimension, into: queryCodes) : 0
    }

    deinit {
        visited.deallocate()
        query.deallocate()
        queryCodes.deallocate()
        ids.deallocate()
        dots.deallocate()
    }

    /// Starts a new search over `slots` slots: every slot becomes unvisited.
    @inline(__always)
    func beginSearch(slots: Int) {
        visited.clear(slots: slots)
        candidates.removeAll(where: { _ in true })
        results.removeAll(where: { _ in true })
    }
}
