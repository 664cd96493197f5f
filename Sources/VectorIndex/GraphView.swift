/// Unowned pointers into an ``HNSWStorage``, valid until the storage grows or is freed.
/// `@unchecked Sendable`: raw pointers, read by concurrent searches under ``SharedIndex``'s
/// read lock and written only under its write lock.
struct GraphView: @unchecked Sendable {
    let vectors: UnsafeMutablePointer<Float>
    let links0: UnsafeMutablePointer<UInt32>
    let upperBlock: UnsafeMutablePointer<UInt32>
    let upperLinks: UnsafeMutablePointer<UInt32>
    let flags: UnsafeMutablePointer<UInt8>
    let keys: UnsafeMutablePointer<UInt64>
    let tags: UnsafeMutablePointer<UInt32>
    let levels: UnsafeMutablePointer<UInt8>
    let dimension: Int
    let stride0: Int
    let strideUpper: Int
    /// Slots in use when the view was taken.
    let slots: Int

    /// The link list of `slot` on `level`: element 0 is the count, then the linked slots.
    @inline(__always)
    func links(_ slot: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 {
            return links0 + Int(slot) * stride0
        }
        return upperLinks + (Int(upperBlock[Int(slot)]) + level - 1) * strideUpper
    }

    /// The normalised vector of `slot`.
    @inline(__always)
    func vector(_ slot: UInt32) -> UnsafeMutablePointer<Float> {
        vectors + Int(slot) * dimension
    }

    @inline(__always)
    func isDeleted(_ slot: UInt32) -> Bool {
        flags[Int(slot)] & HNSWStorage.deletedFlag != 0
    }

    @inline(__always)
    func level(_ slot: UInt32) -> Int {
        Int(levels[Int(slot)])
    }
}
