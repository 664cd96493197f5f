/// What `deja usage` and `GET /v1/admin/usage` ask of the ledger.
public struct UsageQuery: Sendable, Equatable {
    /// How rows are grouped; `nil`: one total.
    public enum Grouping: String, Sendable, CaseIterable {
        case key, tenant, model, day, hour
    }

    public var by: Grouping?
    /// Seconds since 1970; rows at or after it.
    public var since: Double

    public init(by: Grouping? = nil, since: Double) {
        self.by = by
        self.since = since
    }

    /// `7d`, `12h`, `30m` or `90s` as seconds.
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "d": return value * 86_400
        case "h": return value * 3_600
        case "m": return value * 60
        case "s": return value
        default: return nil
        }
    }
}
