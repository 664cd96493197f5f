import DejaSupport
import Synchronization

/// The last requests the gateway answered, for the dashboard's live view: a ring of slots each
/// behind its own lock, the slot picked by an atomic sequence, so that two requests finishing
/// at once almost never wait on each other.
final class RecentRequests: Sendable {
    /// One finished request: what its log line says, the prompt only when `logging.prompts` is on.
    struct Entry: Sendable {
        var sequence: Int
        var requestID: String
        var time: Double
        var method: String
        var path: String
        var model: String?
        var cache: String?
        var similarity: Float?
        var status: Int
        var latencyMs: Double
        var key: String?
        var tenant: String?
        var prompt: String?

        var json: JSONValue {
            var o: [String: JSONValue] = [
                "id": .string(requestID), "time": .double(time), "method": .string(method), "path": .string(path),
                "status": .int(Int64(status)), "latency_ms": .double((latencyMs * 100).rounded() / 100),
            ]
            if let model { o["model"] = .string(model) }
            if let cache { o["cache"] = .string(cache) }
            if let similarity { o["similarity"] = .double((Double(similarity) * 10_000).rounded() / 10_000) }
            if let key { o["key"] = .string(key) }
            if let tenant { o["tenant"] = .string(tenant) }
            if let prompt { o["prompt"] = .string(prompt) }
            return .object(o)
        }
    }

    let capacity: Int
    private let sequence = Atomic<Int>(0)
    private let slots: [Slot]

    private final class Slot: Sendable {
        let entry = Mutex<Entry?>(nil)
    }

    init(capacity: Int) {
        self.capacity = capacity
        slots = (0..<capacity).map { _ in Slot() }
    }

    func add(_ entry: Entry) {
        var entry = entry
        entry.sequence = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let slot = entry.sequence % capacity
        slots[slot].entry.withLock { $0 = entry }
    }

    /// The latest `limit`, newest first.
    func latest(_ limit: Int) -> [Entry] {
        let all = slots.compactMap { slot in slot.entry.withLock { $0 } }
        return Array(all.sorted { $0.sequence > $1.sequence }.prefix(limit))
    }
}
