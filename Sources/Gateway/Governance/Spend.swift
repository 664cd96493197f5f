import Foundation

/// Money spent by one key or tenant in the current UTC day and month.
struct Spend: Sendable, Equatable {
    var dayStart: Double = 0
    var day: Double = 0
    var monthStart: Double = 0
    var month: Double = 0

    /// Starts new periods when `now` has left the recorded ones.
    mutating func roll(to now: Date) {
        let day = BudgetPeriod.day.bounds(of: now).start.timeIntervalSince1970
        if day != dayStart { (dayStart, self.day) = (day, 0) }
        let month = BudgetPeriod.month.bounds(of: now).start.timeIntervalSince1970
        if month != monthStart { (monthStart, self.month) = (month, 0) }
    }

    func spent(in period: BudgetPeriod) -> Double {
        period == .day ? day : month
    }
}
