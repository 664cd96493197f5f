public import Foundation

/// The wall clock.
public struct SystemClock: CacheClock {
    public init() {}
    public func now() -> Date { Date() }
}
