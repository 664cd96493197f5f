import DejaSupport
import Foundation
public import Logging
import SemanticCache

/// The process's log buffer and its flushing thread.
final class LogSink: Sendable {
    static let shared = LogSink()

    private struct State {
        var buffer: [UInt8] = []
        var second: Int = -1
        var stamp = ""
    }

    private let state: Mutex<State>

    private init() {
        var initial = State()
        initial.buffer.reserveCapacity(1 << 16)
        state = Mutex(initial)
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                flush()
            }
        }
    }

    /// ISO 8601 to the second, UTC, formatted once per second.
    func timestamp() -> String {
        let now = Int(Date().timeIntervalSince1970)
        return state.withLock { s in
            if now != s.second {
                var t = time_t(now)
                var parts = tm()
                gmtime_r(&t, &parts)
                func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
                s.stamp = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
                    + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
                s.second = now
            }
            return s.stamp
        }
    }

    func write(_ line: String, urgent: Bool) {
        let full = state.withLock { s in
            s.buffer.append(contentsOf: line.utf8)
            return s.buffer.count >= 1 << 16
        }
        if urgent || full { flush() }
    }

    func flush() {
        let pending = state.withLock { s in
            defer { s.buffer.removeAll(keepingCapacity: true) }
            return s.buffer
        }
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
