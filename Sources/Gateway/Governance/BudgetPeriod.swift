public import Foundation

/// The period a budget is spent over: a UTC day or a UTC calendar month.
public enum BudgetPeriod: String, Codable, Sendable, Equatable {
    case day, month

    /// The start of the period that holds `date`, and the start of the next one.
    public func bounds(of date: Date) -> (start: Date, end: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch self {
        case .day:
            let start = calendar.startOfDay(for: date)
            return (start, calendar.date(byAdding: .day, value: 1, to: start)!)
        case .month:
            let parts = calendar.dateComponents([.year, .month], from: date)
            let start = calendar.date(from: parts)!
            return (start, calendar.date(byAdding: .month, value: 1, to: start)!)
        }
    }
}
