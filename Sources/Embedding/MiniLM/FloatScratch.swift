import CBLAS

/// A grow-only float buffer: reused between batches, reallocated only for a larger one.
struct FloatScratch {
    private(set) var pointer: UnsafeMutablePointer<Float>?
    private(set) var capacity = 0

    mutating func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity || pointer == nil {
            pointer?.deallocate()
            capacity = max(count, capacity * 3 / 2, 1)
            pointer = .allocate(capacity: capacity)
        }
        return pointer!
    }

    func free() {
        pointer?.deallocate()
    }
}
