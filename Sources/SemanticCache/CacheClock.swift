public import Foundation

/// Where the cache reads the time from: the system clock in production, a manual one in tests,
/// so that TTL expiry can be tested without waiting.
public protocol CacheClock: Sendable {
    func now() -> Date
}

/// The wall clock.
public struct SystemClock: CacheClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to.
public final class ManualClock: CacheClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = start
    }

    public func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        lock.unlock()
    }
}
