import DejaSupport
import Foundation

/// Responses kept in memory in front of the store, up to a byte budget; the least recently used
/// go first, in batches.
final class ResponseMemo: Sendable {
    private struct State {
        var items: [UInt64: (data: Data, tick: UInt64)] = [:]
        var tick: UInt64 = 0
        var bytes = 0
    }

    private let state = Mutex(State())

    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    func get(_ key: UInt64) -> Data? {
        state.withLock { s in
            s.tick += 1
            guard var item = s.items[key] else { return nil }
            item.tick = s.tick
            s.items[key] = item
            return item.data
        }
    }

    func put(_ key: UInt64, _ data: Data) {
        guard data.count <= budget / 4 else { return }
        state.withLock { s in
            s.tick += 1
            if let old = s.items.updateValue((data, s.tick), forKey: key) { s.bytes -= old.data.count }
            s.bytes += data.count
            if s.bytes > budget {
                for (k, v) in s.items.sorted(by: { $0.value.tick < $1.value.tick }) where s.bytes > budget * 3 / 4 {
                    s.items.removeValue(forKey: k)
                    s.bytes -= v.data.count
                }
            }
        }
    }

    func remove(_ key: UInt64) {
        state.withLock { s in
            if let old = s.items.removeValue(forKey: key) { s.bytes -= old.data.count }
        }
    }
}
