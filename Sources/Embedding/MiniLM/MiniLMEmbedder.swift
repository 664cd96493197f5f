import CBLAS
import Crypto
import Foundation

/// all-MiniLM-L6-v2, a sentence-embedding model, run in-process on OpenBLAS: no Python, no
/// network, nothing but the model folder that `make model` fills.
///
/// ```swift
/// let embedder = try MiniLMEmbedder.load(MiniLMConfiguration(path: "models/all-MiniLM-L6-v2"))
/// let vectors = try await embedder.embed(["How do I reset my password?",
///                                         "I forgot my login, how can I change it?"])
/// ```
///
/// Unlike ``HashingEmbedder``, it compares meanings rather than words: the two prompts above
/// share almost no words and still score 0.6. It costs milliseconds per prompt instead of
/// microseconds, so concurrent calls are gathered into batches (see ``BatchScheduler``).
///
/// The ``identity`` includes SHA-256 prefixes of the weights and the vocabulary, so a cache built
/// with one copy of the model refuses vectors from a different one.
public final class MiniLMEmbedder: Embedder {
    public let dimension: Int
    public let identity: String
    public let tokenizer: WordPieceTokenizer
    private let scheduler: BatchScheduler

    /// The longest input the model was trained on, in tokens (`max_seq_length` of the
    /// sentence-transformers configuration); longer texts are cut.
    public static let maxTokens = 256

    private init(dimension: Int, identity: String, tokenizer: WordPieceTokenizer, scheduler: BatchScheduler) {
        self.dimension = dimension
        self.identity = identity
        self.tokenizer = tokenizer
        self.scheduler = scheduler
    }

    /// Loads and checks the model folder: `config.json`, `tokenizer_config.json` (optional),
    /// `vocab.txt` and `model.safetensors`.
    ///
    /// Starts `configuration.workers` encoder threads (0: one per core) and sets OpenBLAS's
    /// thread count to `configuration.threads` (0: the cores divided among the workers). OpenBLAS has one such
    /// setting per process, shared with the vector index's batched exact search.
    ///
    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` naming the file and the problem,
    ///   with `make model` as the fix when a file is missing.
    public static func load(_ configuration: MiniLMConfiguration) throws(EmbeddingError) -> MiniLMEmbedder {
        if let problem = configuration.problems.first { throw .invalidConfiguration("embedder.minilm.\(problem)") }
        let folder = URL(fileURLWithPath: configuration.path)
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        guard FileManager.default.fileExists(atPath: file("model.safetensors")) else {
            throw .modelFile(path: file("model.safetensors"), reason: "missing; run `make model` to download all-MiniLM-L6-v2")
        }
        let shape = try BertShape(contentsOf: file("config.json"))
        let options = try TokenizerOptions(contentsOf: file("tokenizer_config.json"))
        guard let vocabulary = FileManager.default.contents(atPath: file("vocab.txt")) else {
            throw .modelFile(path: file("vocab.txt"), reason: "cannot read it; run `make model`")
        }
        let tokenizer = try WordPieceTokenizer(
            vocabularyFile: vocabulary, lowercase: options.lowercase, stripAccents: options.stripAccents,
            maxTokens: min(maxTokens, shape.maxPositions), source: file("vocab.txt"))
        guard tokenizer.vocabularySize == shape.vocabularySize else {
            throw .modelFile(path: file("vocab.txt"), reason: "has \(tokenizer.vocabularySize) entries but config.json says vocab_size \(shape.vocabularySize)")
        }
        let weightsFile = try SafeTensorsFile(path: file("model.safetensors"))
        let weights = try BertWeights(file: weightsFile, shape: shape)

        let threads = configuration.threads > 0
            ? configuration.threads : max(1, ProcessInfo.processInfo.activeProcessorCount / configuration.resolvedWorkers)
        openblas_set_num_threads(Int32(threads))
        let identity = "minilm-v1(\(folder.lastPathComponent),weights=\(digest(weightsFile.bytes)),"
            + "vocab=\(digest(vocabulary)),lower=\(options.lowercase),max_tokens=\(tokenizer.maxTokens))"
        // Short products (a few sentences) are split by the encoders' own helpers over the
        // cores other passes leave idle: with `threads` set, up to that many (as asked, even
        // past the cores); else up to all (four at most: past that, a 384-column product splits
        // into too little work each).
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let helpers = min(configuration.threads > 0 ? configuration.threads : cores, 4) - 1
        let scheduler = BatchScheduler(
            weights: weights, workers: configuration.resolvedWorkers, helpers: helpers,
            cores: max(cores, configuration.threads),
            maxBatch: configuration.maxBatch,
            wait: .microseconds(Int64(configuration.batchWaitMilliseconds * 1000)))
        return MiniLMEmbedder(dimension: shape.hiddenSize, identity: identity, tokenizer: tokenizer, scheduler: scheduler)
    }

    deinit {
        scheduler.stop()
    }

    /// Embeds `texts` in passes of at most one worker's batch, as many in flight at once as
    /// there are workers, so that a long list (`deja tune`, an import) keeps every worker busy:
    /// sent one batch at a time, 3,551 sentences ran on one core at 240 a second, where the
    /// model does 430 to 520 on two (`deja bench embed --embedder minilm`, Zen 4).
    public func embed(_ texts: [String]) async throws(EmbeddingError) -> [[Float]] {
        let chunk = scheduler.batchLimit
        let chunks = stride(from: 0, to: texts.count, by: chunk).map { $0..<min(texts.count, $0 + chunk) }
        var parts = [[[Float]]](repeating: [], count: chunks.count)
        if chunks.count == 1 {
            parts[0] = await scheduler.encode(texts.map { tokenizer.encode($0) })
        } else {
            await withTaskGroup(of: (Int, [[Float]]).self) { group in
                var next = 0
                func submit() {
                    let (i, range) = (next, chunks[next])
                    let sequences = texts[range].map { tokenizer.encode($0) }
                    group.addTask { [scheduler] in (i, await scheduler.encode(sequences)) }
                    next += 1
                }
                while next < min(chunks.count, scheduler.workerCount + 1) { submit() }
                for await (i, part) in group {
                    parts[i] = part
                    if next < chunks.count { submit() }
                }
            }
        }
        let vectors = parts.flatMap { $0 }
        for (i, vector) in vectors.enumerated() where !vector.allSatisfy(\.isFinite) {
            throw .invalidResponse(source: identity, reason: "text \(i) gave a vector with NaN or infinity; the model file may be damaged")
        }
        return vectors
    }

    /// The first 16 hex digits of the SHA-256 of `bytes`.
    private static func digest(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
