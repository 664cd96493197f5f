/// Per-period counters (a minute or an hour each) in a ring of fixed size, written without a
/// lock. Each slot carries the period it counts as a tag; the first writer of a new period
/// claims the slot and clears it. A request counted by another thread in that instant can be
/// lost, which a dashboard can afford and a hit path that waits on a lock cannot.
final class TrafficRing: Sendable {
    let slots: Int
    let seconds: Int
    private let counters: AtomicCounters

    init(slots: Int, seconds: Int) {
        self.slots = slots
        self.seconds = seconds
        counters = AtomicCounters(count: slots * TrafficField.stride)
    }

    func period(at time: Double) -> Int { Int(time) / seconds }

    /// The base offset of the slot counting `period`, claimed if it still counts an older one;
    /// `nil` when it already counts a later one (a clock that went back).
    private func slot(_ period: Int) -> Int? {
        let base = (period % slots) * TrafficField.stride
        let tag = period + 1
        while true {
            let current = counters.load(base)
            if current == tag { return base }
            if current > tag { return nil }
            if counters.exchange(base, expected: current, desired: tag) {
                for i in 1..<TrafficField.stride { counters.store(base + i, 0) }
                return base
            }
        }
    }

    func add(_ field: TrafficField, _ amount: Int, at time: Double) {
        guard amount != 0, let base = slot(period(at: time)) else { return }
        counters.add(base + field.rawValue, amount)
    }

    /// A request: its outcome's field, its latency bucket, and the request count.
    func request(_ outcome: TrafficField?, latencyBucket: Int, hit: Bool?, at time: Double) {
        guard let base = slot(period(at: time)) else { return }
        counters.add(base + TrafficField.requests.rawValue)
        if let outcome { counters.add(base + outcome.rawValue) }
        if let hit { counters.add(base + (hit ? TrafficField.hitLatency : TrafficField.missLatency) + latencyBucket) }
    }

    /// The counters of `period`, all zero when its slot holds another period.
    func read(_ period: Int) -> [Int] {
        let base = (period % slots) * TrafficField.stride
        guard counters.load(base) == period + 1 else { return [Int](repeating: 0, count: TrafficField.stride) }
        return (0..<TrafficField.stride).map { counters.load(base + $0) }
    }
}
