/// The slots one search has visited: a bit per slot, and the list of words a search set bits in,
/// so that starting the next search clears only those words.
///
/// A bit rather than hnswlib's `UInt16` tag per slot (`visited_list_pool.h`): the set of a
/// million slots is 125 KB and stays in cache while a search streams vectors through it, where
/// 2 MB of tags did not fit a 1 MB L2 cache (at 100,000 slots the tag's load was the largest wait
/// of a search in the gateway's profile on an AMD Zen 5). Clearing costs one store per word
/// touched, a few hundred per search, instead of the tags' wrap-around clear of the whole array.
///
/// A value of raw pointers: a search copies it into a local, marks slots, and stores it back, so
/// that the hot loop pays no exclusivity checks on the owner's property. Owned and freed by
/// ``SearchScratch``.
struct VisitedSet {
    /// One bit per slot.
    private var words: UnsafeMutablePointer<UInt64>
    /// Indexes of the words with a bit set since the last ``clear(slots:)``, each once.
    private var touched: UnsafeMutablePointer<UInt32>
    private var touchedCount = 0
    /// Slots the set has room for, a multiple of 64.
    private(set) var capacity: Int

    init() {
        capacity = 0
        words = .allocate(capacity: 1)
        touched = .allocate(capacity: 1)
    }

    /// Frees the buffers; the set must not be used afterwards.
    func deallocate() {
        words.deallocate()
        touched.deallocate()
    }

    /// Empties the set and makes room for `slots` slots.
    @inline(__always)
    mutating func clear(slots: Int) {
        if slots > capacity {
            deallocate()
            capacity = (max(slots, capacity + capacity / 2) + 63) & ~63
            words = .allocate(capacity: capacity / 64)
            words.initialize(repeating: 0, count: capacity / 64)
            touched = .allocate(capacity: capacity / 64)
            touchedCount = 0
            return
        }
        for i in 0..<touchedCount { words[Int(touched[i])] = 0 }
        touchedCount = 0
    }

    /// Adds `slot`; returns `false` when it was already in the set.
    @inline(__always)
    mutating func insert(_ slot: UInt32) -> Bool {
        let index = Int(slot &>> 6)
        let word = words[index]
        let bit = UInt64(1) &<< UInt64(slot & 63)
        if word & bit != 0 { return false }
        if word == 0 {
            touched[touchedCount] = UInt32(index)
            touchedCount &+= 1
        }
        words[index] = word | bit
        return true
    }
}
