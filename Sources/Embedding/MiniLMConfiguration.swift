import Foundation

/// Where the all-MiniLM-L6-v2 model files are and how lookups are batched.
public struct MiniLMConfiguration: Codable, Sendable, Equatable {
    /// The folder holding `model.safetensors`, `vocab.txt`, `config.json` and
    /// `tokenizer_config.json` (`make model` fills `models/all-MiniLM-L6-v2`). A relative path
    /// written in the configuration file is resolved against the file's folder; the default is
    /// relative to the working folder, where `make model` puts the model.
    public var path: String
    /// The largest batch the workers take together: each pass takes at most `max_batch /
    /// workers`, so that a burst is shared among the workers rather than queued behind one.
    public var maxBatch: Int
    /// How long a lookup that finds the model idle may wait for others to join its batch, in
    /// milliseconds. Under load it does not matter (batches fill while the model runs: measured
    /// the same throughput with 0 and 2 at 32 callers); alone, a lookup pays it in full, so it
    /// is kept short.
    public var batchWaitMilliseconds: Double
    /// Threads for each forward pass (0: automatic). Long products (large batches) run on
    /// OpenBLAS with this many threads (automatic: the cores divided among the workers); short
    /// ones (a few sentences) are split by the pass's own helper threads over up to this many
    /// cores (automatic: up to all of them, four at most) while other passes leave them idle,
    /// so that a lone lookup uses the whole machine and a busy one keeps to its core.
    public var threads: Int
    /// Forward passes that run at once, each on a thread of its own with `threads` OpenBLAS
    /// threads (0: one per core, each with one thread). One per core served about 20% more
    /// requests per second than one worker on both cores in the gateway on 2 cores under load
    /// (600 and 612 against 519 and 509, 10% new prompts), and a lone lookup is as fast either
    /// way (a 16-token prompt in about 3.2 ms), its worker splitting its products over the
    /// idle cores.
    public var workers: Int

    /// ``workers`` with 0 resolved to the number of cores.
    public var resolvedWorkers: Int {
        workers > 0 ? workers : ProcessInfo.processInfo.activeProcessorCount
    }

    public init(
        path: String = "models/all-MiniLM-L6-v2", maxBatch: Int = 32, batchWaitMilliseconds: Double = 1, threads: Int = 0,
        workers: Int = 0
    ) {
        self.path = path
        self.maxBatch = maxBatch
        self.batchWaitMilliseconds = batchWaitMilliseconds
        self.threads = threads
        self.workers = workers
    }

    enum CodingKeys: String, CodingKey {
        case path, maxBatch = "max_batch", batchWaitMilliseconds = "batch_wait_ms", threads, workers
    }

    public init(from decoder: any Decoder) throws {
        let d = MiniLMConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? d.path
        maxBatch = try c.decodeIfPresent(Int.self, forKey: .maxBatch) ?? d.maxBatch
        batchWaitMilliseconds = try c.decodeIfPresent(Double.self, forKey: .batchWaitMilliseconds) ?? d.batchWaitMilliseconds
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? d.workers
    }

    public var problems: [String] {
        var out: [String] = []
        if path.isEmpty { out.append("path: must name the model folder") }
        if !(1...256).contains(maxBatch) { out.append("max_batch: must be between 1 and 256, got \(maxBatch)") }
        if !(0...1000).contains(batchWaitMilliseconds) {
            out.append("batch_wait_ms: must be between 0 and 1000, got \(batchWaitMilliseconds)")
        }
        if !(0...256).contains(threads) { out.append("threads: must be between 0 and 256, got \(threads)") }
        if !(0...64).contains(workers) { out.append("workers: must be between 0 and 64, got \(workers)") }
        return out
    }
}
