import Foundation

/// Gathers concurrent requests into batches for one or more ``BertEncoder``s, each on a thread
/// of its own.
///
/// The encoders run on dedicated threads, never on Swift's cooperative pool, whose few threads
/// must stay free for the server. While a worker runs a batch, new requests queue up and become
/// the next batch, so under load the matrix products work on many sentences at once. A worker
/// that wakes from idle to a batch that is not full waits at most `wait` for company (0: starts
/// at once); a full batch starts without waiting. With several workers, each takes the next
/// batch when it is free (continuous batching), so the model runs that many batches at once.
///
/// `@unchecked Sendable`: its queue is guarded by an `NSCondition` (a mutex and a condition
/// variable its worker threads wait on); `Mutex` has no condition variable.
final class BatchScheduler: @unchecked Sendable {
    private struct Job {
        var sequences: [[Int32]]
        var continuation: CheckedContinuation<[[Float]], Never>
    }

    /// Guards everything below it; workers sleep on it while nothing is pending.
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var pendingSequences = 0
    private var stopped = false
    private var threads: [Thread] = []

    let maxBatch: Int
    /// The most sentences one pass takes: `maxBatch` shared among the workers. When each took up
    /// to `maxBatch`, a closed loop of `maxBatch` callers (32 clients, each sending its next
    /// prompt when the last is answered) ran on one worker at a time, the whole batch going back
    /// and forth between two workers while the other idled: 244 sentences/s (345 in one run of
    /// three), against 467 and 470 with batches of at most 16 (`deja bench embed --embedder
    /// minilm`, two workers on one thread each). A smaller batch costs little: one thread runs
    /// batches of 8 at 230 sentences/s and of 32 at 246.
    let batchLimit: Int
    let wait: Duration
    /// How many passes run at once.
    let workerCount: Int

    /// Passes running now, so that a pass alone may use the idle cores.
    private let share: CoreShare

    /// Starts `workers` threads, each with an encoder of its own over the shared `weights` and
    /// `helpers` threads to split its short products over the `cores` others leave idle.
    /// Call ``stop()`` to end them.
    init(weights: BertWeights, workers: Int, helpers: Int = 0, cores: Int = 1, maxBatch: Int, wait: Duration) {
        self.maxBatch = max(maxBatch, 1)
        batchLimit = max(self.maxBatch / max(workers, 1), 1)
        workerCount = max(workers, 1)
        self.wait = wait
        let share = CoreShare(cores: cores)
        self.share = share
        for i in 0..<max(workers, 1) {
            let thread = Thread { [self] in work(BertEncoder(weights: weights, helpers: helpers, share: share)) }
            thread.name = "deja.minilm.\(i)"
            thread.qualityOfService = .userInitiated
            threads.append(thread)
        }
        for thread in threads { thread.start() }
    }

    /// The vectors of `sequences` (at most ``maxBatch`` of them), in order.
    func encode(_ sequences: [[Int32]]) async -> [[Float]] {
        if sequences.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            condition.lock()
            pending.append(Job(sequences: sequences, continuation: continuation))
            pendingSequences += sequences.count
            // A full batch also ends a worker's wait for company; otherwise one idle worker is
            // enough to take the job.
            if pendingSequences >= batchLimit { condition.broadcast() } else { condition.signal() }
            condition.unlock()
        }
    }

    /// Lets the workers finish the batch they run and end. Pending requests are still answered.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work(_ encoder: BertEncoder) {
        let (seconds, attoseconds) = wait.components
        let waitSeconds = Double(seconds) + Double(attoseconds) * 1e-18
        while true {
            condition.lock()
            var woke = false
            while pending.isEmpty && !stopped {
                condition.wait()
                woke = true
            }
            if pending.isEmpty && stopped {
                condition.unlock()
                return
            }
            // Fresh from idle with a batch that is not full: give others a moment to join it.
            if woke && waitSeconds > 0 && pendingSequences < batchLimit && !stopped {
                let deadline = Date(timeIntervalSinceNow: waitSeconds)
                while pendingSequences < batchLimit && !pending.isEmpty && !stopped {
                    if !condition.wait(until: deadline) { break }
                }
                if pending.isEmpty {  // another worker took them meanwhile
                    condition.unlock()
                    continue
                }
            }
            let jobs = takeBatch()
            share.begin()
            if !pending.isEmpty { condition.signal() }  // the rest is another worker's batch
            condition.unlock()

            let vectors = encoder.encode(jobs.flatMap(\.sequences))
            share.end()
            var first = 0
            for job in jobs {
                job.continuation.resume(returning: Array(vectors[first..<(first + job.sequences.count)]))
                first += job.sequences.count
            }
        }
    }

    /// Whole jobs from the front of the queue, up to ``batchLimit`` sentences (at least one job).
    /// Called with the lock held.
    private func takeBatch() -> [Job] {
        var taken = 0
        var count = 0
        while taken < pending.count && (taken == 0 || count + pending[taken].sequences.count <= batchLimit) {
            count += pending[taken].sequences.count
            taken += 1
        }
        let jobs = Array(pending.prefix(taken))
        pending.removeFirst(taken)
        pendingSequences -= count
        return jobs
    }
}
