/// Entries by expiry time, earliest first: a binary min-heap, so that the upkeep finds what
/// expired without looking at what did not.
///
/// The catalog pushes an entry's expiry when it adds the entry and never takes it out when the
/// entry goes; such an item is skipped when it comes up (``_Catalog/expired(at:)`` checks it
/// against the live entries), and the heap is rebuilt when stale items outnumber live ones.
struct _ExpiryHeap {
    struct Item {
        var at: Double
        var key: UInt64
    }

    private(set) var items: [Item] = []

    var count: Int { items.count }
    var first: Item? { items.first }

    /// - Complexity: O(n) (Floyd's bottom-up heap construction).
    init<S: Sequence<Item>>(_ items: S) {
        self.items = Array(items)
        for i in stride(from: self.items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    init() {}

    /// - Complexity: O(log n).
    mutating func push(_ at: Double, _ key: UInt64) {
        items.append(Item(at: at, key: key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].at < items[parent].at else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest item.
    /// - Complexity: O(log n).
    @discardableResult
    mutating func popFirst() -> Item? {
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
            if left < items.count && items[left].at < items[smallest].at { smallest = left }
            if right < items.count && items[right].at < items[smallest].at { smallest = right }
            guard smallest != i else { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
