import Foundation

/// An open-addressing table from feature hash to (weight, count), sized once per text: counting
/// repeated features for sublinear term frequency without a `Dictionary` per text.
struct FeatureTable {
    struct Slot {
        var key: UInt64 = 0
        var weight: Float = 0
        var count: UInt32 = 0
    }

    private var slots: [Slot]
    private let mask: Int

    init(capacityFor n: Int) {
        var size = 16
        while size < n * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
    }

    @inline(__always)
    mutating func add(_ hash: UInt64, _ weight: Float) {
        var i = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while slots[i].count != 0 && slots[i].key != hash { i = (i + 1) & mask }
        slots[i].key = hash
        // Repeats of one feature have one weight; keep the largest in case they differ.
        slots[i].weight = max(slots[i].weight, weight)
        slots[i].count += 1
    }

    func forEach(_ body: (UInt64, Float, Int) -> Void) {
        for slot in slots where slot.count != 0 { body(slot.key, slot.weight, Int(slot.count)) }
    }
}
