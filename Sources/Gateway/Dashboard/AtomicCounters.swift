import Synchronization

/// A fixed number of counters that any thread adds to without a lock (relaxed atomics): what
/// the dashboard counts on the hit path, where a lock would make requests wait on each other.
final class AtomicCounters: Sendable {
    let count: Int
    private nonisolated(unsafe) let storage: UnsafeMutablePointer<Atomic<Int>>

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        for i in 0..<count { (storage + i).initialize(to: Atomic(0)) }
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    func add(_ index: Int, _ amount: Int = 1) {
        storage[index].wrappingAdd(amount, ordering: .relaxed)
    }

    func load(_ index: Int) -> Int {
        storage[index].load(ordering: .relaxed)
    }

    func store(_ index: Int, _ value: Int) {
        storage[index].store(value, ordering: .relaxed)
    }

    /// Swaps `expected` for `desired` at `index`; whether this caller made the change.
    func exchange(_ index: Int, expected: Int, desired: Int) -> Bool {
        storage[index].compareExchange(expected: expected, desired: desired, ordering: .relaxed).exchanged
    }
}
