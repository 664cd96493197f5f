/// A bucket that holds at most `capacity` (a per-minute limit) and refills at `capacity / 60`
/// per second: a client may spend a whole minute's allowance at once, then at the steady rate.
struct TokenBucket: Sendable, Equatable {
    var level: Double
    var updated: Double

    init(capacity: Int, now: Double) {
        level = Double(capacity)
        updated = now
    }

    /// Refills for the time since the last update.
    mutating func refill(capacity: Int, now: Double) {
        let rate = Double(capacity) / 60
        if now > updated { level = min(Double(capacity), level + (now - updated) * rate) }
        level = min(level, Double(capacity))
        updated = max(updated, now)
    }

    /// Seconds until `amount` is available (0 when it is).
    func wait(for amount: Double, capacity: Int) -> Double {
        level >= amount ? 0 : (amount - level) / (Double(capacity) / 60)
    }

    /// Seconds until the bucket is full again (`x-ratelimit-reset-*`).
    func reset(capacity: Int) -> Double {
        max(0, (Double(capacity) - level) / (Double(capacity) / 60))
    }
}
