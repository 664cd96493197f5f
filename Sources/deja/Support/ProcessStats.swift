import Foundation

/// Facts about this process, for benchmark reports.
enum ProcessStats {
    /// Resident set size in bytes, from /proc/self/statm (0 where that file does not exist).
    static var residentBytes: Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// CPU time (user + system) the process `pid` has used so far, in seconds, from
    /// /proc/PID/stat; nil when there is no such process (or no /proc).
    ///
    /// CPU time per request is the gateway's cost that a noisy, shared machine does not blur:
    /// requests per second move with what else runs, CPU seconds per request much less.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Logical CPUs available.
    static var cpuCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Wall-clock time in nanoseconds, for timing loops.
@inline(__always)
func nowNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

extension Array where Element == Double {
    /// The `p`-th percentile (0...100) by nearest rank on a sorted copy.
    func percentile(_ p: Double) -> Double {
        guard !isEmpty else { return .nan }
        let s = sorted()
        let rank = Int((p / 100 * Double(s.count - 1)).rounded())
        return s[Swift.max(0, Swift.min(s.count - 1, rank))]
    }

    var median: Double { percentile(50) }
}
