import DejaSupport
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
final class ReplayMemo: Sendable {
    struct Key: Hashable {
        var entry: UInt64
        var api: ProxyAPI
        var includeUsage: Bool
    }

    private struct State {
        var replays: [Key: ByteBuffer] = [:]
        /// Keys in the order they were kept; `oldest` is the first still in `replays`' care.
        var order: [Key] = []
        var oldest = 0
        var bytes = 0
    }

    private let state = Mutex(State())

    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func get(_ key: Key) -> ByteBuffer? {
        state.withLock { s in s.replays[key] }
    }

    func put(_ key: Key, _ replay: ByteBuffer) {
        let size = replay.readableBytes
        guard size <= limit / 8 else { return }  // one huge answer must not flush everything else
        state.withLock { s in
            guard s.replays.updateValue(replay, forKey: key) == nil else { return }
            s.order.append(key)
            s.bytes += size
            while s.bytes > limit, s.oldest < s.order.count {
                if let gone = s.replays.removeValue(forKey: s.order[s.oldest]) { s.bytes -= gone.readableBytes }
                s.oldest += 1
            }
            if s.oldest > 1024 && s.oldest * 2 > s.order.count {
                s.order.removeFirst(s.oldest)
                s.oldest = 0
            }
        }
    }

    var count: Int {
        state.withLock { s in s.replays.count }
    }
}
