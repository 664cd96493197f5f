import Foundation

/// Log-spaced latency buckets, a factor 1.25 apart from 50 µs to about a minute: a request
/// finds its bucket with one logarithm, and a percentile read off them is at most 25 % high.
enum LatencyBuckets {
    static let count = 64
    static let first = 0.05
    static let factor = 1.25

    /// The bucket of a latency in milliseconds.
    static func index(milliseconds: Double) -> Int {
        guard milliseconds > first else { return 0 }
        return min(count - 1, Int(log(milliseconds / first) / log(factor)) + 1)
    }

    /// The upper bound of bucket `index`, in milliseconds.
    static func upperBound(_ index: Int) -> Double {
        first * pow(factor, Double(index))
    }

    /// The `quantile` (0...1) of the counts, as the upper bound of the bucket it falls in;
    /// `nil` for no requests.
    static func quantile(_ quantile: Double, of counts: [Int]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for (i, n) in counts.enumerated() {
            seen += n
            if seen >= rank { return upperBound(i) }
        }
        return upperBound(count - 1)
    }
}
