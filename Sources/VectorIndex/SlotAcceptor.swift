import HeapModule

/// Which slots a layer search may return (the others still route the search).
/// A protocol rather than a closure, so that each use is specialised and the common
/// "no filter" case costs one flag test.
protocol SlotAcceptor {
    func accepts(_ slot: UInt32) -> Bool
    /// Starts loading what ``accepts(_:)`` reads of `slot`. A search calls it for each fresh
    /// neighbour beside the prefetch of its vector: the per-slot arrays are read at random, and
    /// in a large index each test was otherwise a cache miss of its own.
    func prefetch(_ slot: UInt32)
}

/// Live slots except one (the node being inserted, when its slot is reused).
struct LiveSlots: SlotAcceptor {
    let flags: UnsafeMutablePointer<UInt8>
    let excluded: UInt32

    @inline(__always)
    func accepts(_ slot: UInt32) -> Bool {
        slot != excluded && flags[Int(slot)] & HNSWStorage.deletedFlag == 0
    }

    @inline(__always)
    func prefetch(_ slot: UInt32) {
        VectorMath.prefetch(UnsafeRawPointer(flags + Int(slot)))
    }
}

/// Live slots of one tag.
struct TaggedSlots: SlotAcceptor {
    let flags: UnsafeMutablePointer<UInt8>
    let tags: UnsafeMutablePointer<UInt32>
    let tag: UInt32

    @inline(__always)
    func accepts(_ slot: UInt32) -> Bool {
        tags[Int(slot)] == tag && flags[Int(slot)] & HNSWStorage.deletedFlag == 0
    }

    @inline(__always)
    func prefetch(_ slot: UInt32) {
        VectorMath.prefetch(UnsafeRawPointer(tags + Int(slot)))
        VectorMath.prefetch(UnsafeRawPointer(flags + Int(slot)))
    }
}

/// Live slots of one tag (when given) whose key passes the caller's filter.
struct TaggedFilteredSlots: SlotAcceptor {
    let flags: UnsafeMutablePointer<UInt8>
    let tags: UnsafeMutablePointer<UInt32>
    let keys: UnsafeMutablePointer<UInt64>
    let tag: UInt32?
    let filter: (UInt64) -> Bool

    @inline(__always)
    func accepts(_ slot: UInt32) -> Bool {
        flags[Int(slot)] & HNSWStorage.deletedFlag == 0 && (tag == nil || tags[Int(slot)] == tag!)
            && filter(keys[Int(slot)])
    }

    @inline(__always)
    func prefetch(_ slot: UInt32) {
        VectorMath.prefetch(UnsafeRawPointer(flags + Int(slot)))
        if tag != nil { VectorMath.prefetch(UnsafeRawPointer(tags + Int(slot))) }
    }
}
