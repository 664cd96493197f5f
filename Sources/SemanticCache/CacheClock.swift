public import Foundation

/// Where the cache reads the time from: the system clock in production, a manual one in tests,
/// so that TTL expiry can be tested without waiting.
public protocol CacheClock: Sendable {
    func now() -> Date
}
