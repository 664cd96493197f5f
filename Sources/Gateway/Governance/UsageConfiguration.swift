/// The usage ledger (`usage:`): one row per proxied request, written in batches off the request
/// path.
public struct UsageConfiguration: Codable, Sendable, Equatable {
    /// Days a row is kept; older rows are deleted hourly.
    public var retentionDays: Int
    /// Seconds between writes of the rows gathered since the last one. A `kill -9` loses at most
    /// this much; a graceful stop loses nothing.
    public var flushInterval: Double
    /// The most rows held in memory waiting to be written. When the disk cannot keep up, rows
    /// beyond it are dropped and counted (`deja_usage_rows_dropped_total`), so that memory does
    /// not grow without bound and no request waits on the ledger.
    public var maxPending: Int

    public init(retentionDays: Int = 90, flushInterval: Double = 1, maxPending: Int = 200_000) {
        self.retentionDays = retentionDays
        self.flushInterval = flushInterval
        self.maxPending = maxPending
    }

    enum CodingKeys: String, CodingKey {
        case retentionDays = "retention_days", flushInterval = "flush_interval", maxPending = "max_pending"
    }

    public init(from decoder: any Decoder) throws {
        let d = UsageConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        retentionDays = try c.decodeIfPresent(Int.self, forKey: .retentionDays) ?? d.retentionDays
        flushInterval = try c.decodeIfPresent(Double.self, forKey: .flushInterval) ?? d.flushInterval
        maxPending = try c.decodeIfPresent(Int.self, forKey: .maxPending) ?? d.maxPending
    }

    var problems: [String] {
        var out: [String] = []
        if !(1...36_500).contains(retentionDays) {
            out.append("usage.retention_days: must be between 1 and 36500, got \(retentionDays)")
        }
        if !(flushInterval >= 0.01 && flushInterval <= 60) {
            out.append("usage.flush_interval: must be between 0.01 and 60 seconds, got \(flushInterval)")
        }
        if !(1_000...100_000_000).contains(maxPending) {
            out.append("usage.max_pending: must be between 1000 and 100000000, got \(maxPending)")
        }
        return out
    }
}
