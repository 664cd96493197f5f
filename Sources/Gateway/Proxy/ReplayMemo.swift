import Foundation
import NIOCore

/// Streams replayed from cached answers, kept so that the next streamed hit on the same entry
/// sends bytes instead of building them again.
///
/// Rebuilding a replay (parse the stored answer, cut it into chunks, write each as an event)
/// took a third of the gateway's CPU under streamed hits, most of what a streamed hit costs
/// beyond a plain one. A replay depends only on the entry, the API and whether the usage chunk
/// is asked for, and an entry never changes under its key (a replaced answer gets a new key), so
/// a kept replay is never stale; one of a deleted entry is simply never asked for again.
///
/// Bounded by bytes; the oldest replays go first when it is full.
final class ReplayMemo: @unchecked Sendable {
    struct Key: Hashable {
        var entry: UInt64
        var api: ProxyAPI
        var includeUsage: Bool
    }

    private let lock = NSLock()
    private var replays: [Key: ByteBuffer] = [:]
    /// Keys in the order they were kept; `oldest` is the first still in `replays`' care.
    private var order: [Key] = []
    private var oldest = 0
    private var bytes = 0
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func get(_ key: Key) -> ByteBuffer? {
        lock.withLock { replays[key] }
    }

    func put(_ key: Key, _ replay: ByteBuffer) {
        let size = replay.readableBytes
        guard size <= limit / 8 else { return }  // one huge answer must not flush everything else
        lock.withLock {
            guard replays.updateValue(replay, forKey: key) == nil else { return }
            order.append(key)
            bytes += size
            while bytes > limit, oldest < order.count {
                if let gone = replays.removeValue(forKey: order[oldest]) { bytes -= gone.readableBytes }
                oldest += 1
            }
            if oldest > 1024 && oldest * 2 > order.count {
                order.removeFirst(oldest)
                oldest = 0
            }
        }
    }

    var count: Int {
        lock.withLock { replays.count }
    }
}
