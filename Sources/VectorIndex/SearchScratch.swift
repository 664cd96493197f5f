import HeapModule

/// Everything one search needs besides the graph, allocated once and reused, so that a search
/// allocates nothing (usearch's per-thread `context_t`).
///
/// - The visited set is a `UInt16` tag per slot (hnswlib `visited_list_pool.h`): a new search bumps
///   the tag, and memory is cleared only when the tag wraps around, every 65,535 searches.
/// - `candidates` is a min-heap of the frontier; `results` keeps the `ef` best seen, with the worst
///   on top for `replaceMax(with:)`.
///
/// `@unchecked Sendable`: it owns raw buffers; a scratch object is used by one search at a time,
/// handed out and taken back by ``ScratchPool``.
final class SearchScratch: @unchecked Sendable {
    let dimension: Int
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private(set) var visitedCapacity: Int
    private(set) var tag: UInt16 = 0
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
        visitedCapacity = 0
        visited = .allocate(capacity: 1)
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
        if slots > visitedCapacity {
            visited.deallocate()
            visitedCapacity = max(slots, visitedCapacity + visitedCapacity / 2)
            visited = .allocate(capacity: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            tag = 0
        }
        if tag == UInt16.max {
            visited.update(repeating: 0, count: visitedCapacity)
            tag = 0
        }
        tag &+= 1
        candidates.removeAll(where: { _ in true })
        results.removeAll(where: { _ in true })
    }

    /// Marks `slot` visited; returns whether it already was.
    @inline(__always)
    func visit(_ slot: UInt32) -> Bool {
        let p = visited + Int(slot)
        if p.pointee == tag { return true }
        p.pointee = tag
        return false
    }
}
