import Dispatch
import Synchronization

/// Gathers concurrent requests into batches for one ``BertEncoder`` on a thread of its own.
///
/// The encoder runs on a serial dispatch queue, never on Swift's cooperative pool, whose few
/// threads must stay free for the server. While a batch runs, new requests queue up and become
/// the next batch, so under load the matrix products work on many sentences at once. A request
/// that finds the encoder idle waits at most `wait` for company (0: starts at once); a batch
/// that fills up starts without waiting.
final class BatchScheduler: @unchecked Sendable {
    private struct Job {
        var sequences: [[Int32]]
        var continuation: CheckedContinuation<[[Float]], Never>
    }

    private struct State {
        var pending: [Job] = []
        var pendingSequences = 0
        /// A drain is running or scheduled; new jobs will be seen by it.
        var draining = false
        /// The scheduled drain is the delayed one, waiting for company.
        var waiting = false
    }

    private enum Start { case none, now, later }

    /// Confined to `queue`.
    private let encoder: BertEncoder
    private let queue = DispatchQueue(label: "deja.minilm", qos: .userInitiated)
    private let state = Mutex(State())
    let maxBatch: Int
    let wait: Duration

    init(encoder: BertEncoder, maxBatch: Int, wait: Duration) {
        self.encoder = encoder
        self.maxBatch = max(maxBatch, 1)
        self.wait = wait
    }

    /// The vectors of `sequences` (at most ``maxBatch`` of them), in order.
    func encode(_ sequences: [[Int32]]) async -> [[Float]] {
        if sequences.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            let start = state.withLock { s -> Start in
                s.pending.append(Job(sequences: sequences, continuation: continuation))
                s.pendingSequences += sequences.count
                if !s.draining {
                    s.draining = true
                    s.waiting = wait > .zero && s.pendingSequences < maxBatch
                    return s.waiting ? .later : .now
                }
                if s.waiting && s.pendingSequences >= maxBatch {
                    s.waiting = false
                    return .now
                }
                return .none
            }
            switch start {
            case .none: break
            case .now: queue.async { self.drain() }
            case .later:
                let (seconds, attoseconds) = wait.components
                let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
                queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.drain() }
            }
        }
    }

    /// Runs batches until nothing is pending. A second drain scheduled meanwhile (the delayed
    /// one after an early start) finds the queue empty, or takes what came since.
    private func drain() {
        while true {
            let jobs = state.withLock { s -> [Job] in
                s.waiting = false
                guard !s.pending.isEmpty else {
                    s.draining = false
                    return []
                }
                var taken = 0
                var count = 0
                while taken < s.pending.count && (taken == 0 || count + s.pending[taken].sequences.count <= maxBatch) {
                    count += s.pending[taken].sequences.count
                    taken += 1
                }
                let jobs = Array(s.pending.prefix(taken))
                s.pending.removeFirst(taken)
                s.pendingSequences -= count
                return jobs
            }
            if jobs.isEmpty { return }
            let vectors = encoder.encode(jobs.flatMap(\.sequences))
            var first = 0
            for job in jobs {
                job.continuation.resume(returning: Array(vectors[first..<(first + job.sequences.count)]))
                first += job.sequences.count
            }
        }
    }
}
