/// A binary min-heap: the catalog's schedule of expiries (earliest first, so that the upkeep
/// finds what expired without looking at what did not) and a listing's page of newest keys (the
/// least of those kept at the root, replaced when a greater one comes).
struct _MinHeap<Element: Comparable> {
    private(set) var items: [Element] = []

    var count: Int { items.count }
    var first: Element? { items.first }

    /// - Complexity: O(n) (Floyd's bottom-up heap construction).
    init<S: Sequence<Element>>(_ items: S) {
        self.items = Array(items)
        for i in stride(from: self.items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    init(reservingCapacity capacity: Int = 0) {
        items.reserveCapacity(capacity)
    }

    /// - Complexity: O(log n).
    mutating func push(_ element: Element) {
        items.append(element)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the least element.
    /// - Complexity: O(log n).
    @discardableResult
    mutating func popFirst() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        if !items.isEmpty { siftDown(0) }
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1
            let right = left + 1
            var smallest = i
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != i else { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}

/// When an entry expires, for the catalog's schedule.
///
/// The catalog pushes an entry's expiry when it adds the entry and never takes it out when the
/// entry goes; such an item is skipped when it comes up (``_Catalog/expired(at:)`` checks it
/// against the live entries), and the heap is rebuilt when stale items outnumber live ones.
struct _Expiry: Comparable {
    var at: Double
    var key: UInt64

    static func < (a: _Expiry, b: _Expiry) -> Bool { (a.at, a.key) < (b.at, b.key) }
}
