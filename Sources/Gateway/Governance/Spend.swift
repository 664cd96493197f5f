import Foundation

/// Money spent by one key or tenant in the current UTC day and month.
struct Spend: Sendable, Equatable {
    var dayStart: Double = 0
    var dayEnd: Double = 0
    var day: Double = 0
    var monthStart: Double = 0
    var monthEnd: Double = 0
    var month: Double = 0

    /// Starts new periods when `now` has left the recorded ones. The calendar is asked only then:
    /// on every other call this is two comparisons.
    mutating func roll(to now: Date) {
        let t = now.timeIntervalSince1970
        if t < dayStart || t >= dayEnd {
            let bounds = BudgetPeriod.day.bounds(of: now)
            (dayStart, dayEnd, day) = (bounds.start.timeIntervalSince1970, bounds.end.timeIntervalSince1970, 0)
        }
        if t < monthStart || t >= monthEnd {
            let bounds = BudgetPeriod.month.bounds(of: now)
            (monthStart, monthEnd, month) = (bounds.start.timeIntervalSince1970, bounds.end.timeIntervalSince1970, 0)
        }
    }

    func spent(in period: BudgetPeriod) -> Double {
        period == .day ? day : month
    }
}
