import CBLAS
import VectorIndex

/// The forward pass of a BERT encoder with mean pooling, over batches packed without padding.
///
/// ```swift
/// let encoder = BertEncoder(weights: weights)
/// let vectors = encoder.encode([tokenizer.encode("How do I reset my password?")])
/// ```
///
/// A batch's sentences are laid end to end as the rows of one matrix, so each projection and
/// each feed-forward layer is one `cblas_sgemm` over every token of every sentence. Only
/// attention goes sentence by sentence, each attending to its own tokens alone: that is what an
/// attention mask does for a padded batch, without computing the padding. A sentence therefore
/// gets the same vector alone or in any batch, whatever the other sentences' lengths.
///
/// Not thread-safe: the scratch buffers are reused from call to call, so that a steady stream of
/// batches allocates nothing but the result vectors. Use one encoder per thread.
final class BertEncoder {
    let weights: BertWeights
    private let avx2 = SIMDLevel.active.rawValue
    private var hidden = FloatScratch()
    private var qkv = FloatScratch()
    private var context = FloatScratch()
    private var projected = FloatScratch()
    private var intermediate = FloatScratch()
    private var scores = FloatScratch()
    /// Whether OpenBLAS runs on one thread, so that short products go to the packed kernel.
    private var packedOnOneThread = true
    /// Whether this pass is one share of a batch split by sentences: every product then goes to
    /// the packed kernel on this thread, whatever its rows, since the other cores are busy.
    private var ownCoreOnly = false
    /// Encoders for the other shares of a batch split by sentences, one per helper, made the
    /// first time a batch is split.
    private var partners: [BertEncoder] = []
    /// Helper threads that split short products by columns, and how many cores they may use.
    private let team: UnsafeMutablePointer<deja_team>?
    private let share: CoreShare?

    /// An encoder; with `helpers` > 0 and a `share`, one that splits each short product over up
    /// to `helpers` more threads while `share` says cores are idle.
    init(weights: BertWeights, helpers: Int = 0, share: CoreShare? = nil) {
        self.weights = weights
        self.team = share == nil ? nil : deja_team_start(Int32(helpers))
        self.share = share
    }

    deinit {
        for buffer in [hidden, qkv, context, projected, intermediate, scores] { buffer.free() }
        deja_team_stop(team)
    }

    /// One L2-normalised, mean-pooled vector per token sequence.
    ///
    /// - Precondition: every sequence is non-empty, no longer than the model's positions, and
    ///   its ids are below the vocabulary size (``WordPieceTokenizer`` guarantees all three).
    func encode(_ batch: [[Int32]]) -> [[Float]] {
        let tokens = batch.reduce(0) { $0 + $1.count }
        // Without the packed kernel (no AVX2: portable, arm64) each share would call OpenBLAS on
        // all its threads at once with the other's, which is not what was measured; those keep
        // to OpenBLAS splitting each product.
        if batch.count > 1, let team, let ways = share?.ways, ways > 1, weights.packed {
            let shares = Self.shares(of: batch, tokens: tokens, ways: min(ways, Int(team.pointee.helpers) + 1))
            // One long sentence and a short one do not divide: their products are split instead.
            if shares.allSatisfy({ 2 * $0.reduce(0) { $0 + $1.count } * shares.count <= 3 * tokens }) {
                return encode(shares, team: team)
            }
        }
        return encodePass(batch, tokens: tokens)
    }

    /// Batches this encoder has split by sentences (for the tests).
    private(set) var splitBatches = 0

    /// A batch split by sentences, each share run whole (projections, attention, norms, GELU)
    /// by one thread of the team with an encoder of its own.
    ///
    /// Splitting each product by columns instead keeps attention, the norms and GELU on one
    /// thread and hands off 48 times a pass; past `packedRowLimit` rows OpenBLAS splits the
    /// products, with the same single-threaded rest. Two threads, 16-token sentences, Emerald
    /// Rapids, `deja bench embed`: batch 32 gave 489–527 sentences/s that way (onnxruntime 649),
    /// 518–742 split by sentences in rounds alternating with onnxruntime's 528–672; batch 8 480–556
    /// against 405–496 split by columns, batch 4 460–582 against 350–443.
    private func encode(_ shares: [ArraySlice<[Int32]>], team: UnsafeMutablePointer<deja_team>) -> [[Float]] {
        while partners.count < shares.count - 1 { partners.append(BertEncoder(weights: weights)) }
        let pass = SplitPass(shares: shares.map(Array.init), encoders: [self] + partners)
        withExtendedLifetime(pass) {
            let context = Unmanaged.passUnretained(pass).toOpaque()
            let ran = deja_team_run(team, Int32(shares.count), { context, index in
                Unmanaged<SplitPass>.fromOpaque(context!).takeUnretainedValue().run(Int(index))
            }, context)
            precondition(ran == shares.count, "the team ran \(ran) of \(shares.count) shares")
        }
        splitBatches += 1
        return pass.vectors()
    }

    /// `batch` cut into at most `ways` runs of consecutive sentences (fewer when there are fewer
    /// sentences), none empty, each of about `tokens / ways` tokens.
    static func shares(of batch: [[Int32]], tokens: Int, ways: Int) -> [ArraySlice<[Int32]>] {
        let ways = max(1, min(ways, batch.count))
        var shares: [ArraySlice<[Int32]>] = []
        var first = 0, seen = 0
        for (i, sequence) in batch.enumerated() {
            seen += sequence.count
            // Close a share once it holds its part of the tokens, or when the sentences left are
            // just enough for one per share still to come.
            let toCome = ways - 1 - shares.count
            if toCome > 0, seen * ways >= tokens * (shares.count + 1) || batch.count - i - 1 == toCome {
                shares.append(batch[first...i])
                first = i + 1
            }
        }
        if first < batch.count { shares.append(batch[first...]) }
        return shares
    }

    /// One pass over the whole of `batch`, whose sequences hold `tokens` tokens in all.
    fileprivate func encodePass(_ batch: [[Int32]], tokens: Int, ownCoreOnly: Bool = false) -> [[Float]] {
        let shape = weights.shape
        let h = shape.hiddenSize
        guard tokens > 0 else { return batch.map { _ in [Float](repeating: 0, count: h) } }
        self.ownCoreOnly = ownCoreOnly
        let x = hidden.reserve(tokens * h)
        let qkvRows = qkv.reserve(tokens * 3 * h)
        let ctx = context.reserve(tokens * h)
        let proj = projected.reserve(tokens * h)
        let inter = intermediate.reserve(tokens * shape.intermediateSize)
        let longest = batch.reduce(0) { max($0, $1.count) }
        let attention = scores.reserve(longest * longest)

        embed(batch, into: x)
        packedOnOneThread = openblas_get_num_threads() == 1
        for layer in weights.layers {
            project(x, rows: tokens, weight: layer.qkv, into: qkvRows)
            deja_add_bias(qkvRows, tokens, 3 * h, layer.qkvBias)
            attend(batch, qkv: qkvRows, scores: attention, into: ctx)
            project(ctx, rows: tokens, weight: layer.attentionOutput, into: proj)
            deja_add_layer_norm(avx2, x, proj, layer.attentionOutputBias, layer.attentionNorm, layer.attentionNormBias,
                                tokens, h, shape.layerNormEpsilon)
            project(x, rows: tokens, weight: layer.intermediate, into: inter)
            deja_bias_gelu(avx2, inter, tokens, shape.intermediateSize, layer.intermediateBias)
            project(inter, rows: tokens, weight: layer.output, into: proj)
            deja_add_layer_norm(avx2, x, proj, layer.outputBias, layer.outputNorm, layer.outputNormBias,
                                tokens, h, shape.layerNormEpsilon)
        }
        return pool(batch, x)
    }

    /// Row t = word embedding + position embedding + token type 0, then layer norm.
    private func embed(_ batch: [[Int32]], into x: UnsafeMutablePointer<Float>) {
        let h = weights.shape.hiddenSize
        let type0 = weights.tokenTypeEmbeddings
        var row = 0
        for sequence in batch {
            for (position, id) in sequence.enumerated() {
                let out = x + row * h
                let word = weights.wordEmbeddings + Int(id) * h
                let place = weights.positionEmbeddings + position * h
                for c in 0..<h { out[c] = word[c] + place[c] + type0[c] }
                row += 1
            }
        }
        deja_add_layer_norm(avx2, x, nil, nil, weights.embeddingNorm, weights.embeddingNormBias,
                            row, h, weights.shape.layerNormEpsilon)
    }

    /// Scaled dot-product attention, head by head within each sentence: softmax(Q·Kᵀ/√d)·V.
    private func attend(_ batch: [[Int32]], qkv: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                        into ctx: UnsafeMutablePointer<Float>) {
        let shape = weights.shape
        let h = shape.hiddenSize, d = shape.headSize, stride = 3 * h
        let scale = 1 / Float(d).squareRoot()
        var first = 0
        for sequence in batch {
            let n = sequence.count
            for head in 0..<shape.heads {
                let q = qkv + first * stride + head * d
                let k = q + h
                let v = q + 2 * h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d),
                            scale, q, Int32(stride), k, Int32(stride), 0, scores, Int32(n))
                deja_softmax_rows(scores, n, n, n)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n),
                            1, scores, Int32(n), v, Int32(stride), 0, ctx + first * h + head * d, Int32(h))
            }
            first += n
        }
    }

    /// Up to this many rows (tokens of the batch), a projection uses the packed weights: per
    /// layer 1.65× faster than `cblas_sgemm` at 18 rows, 1.1× at 32 and 64, even at 128 (OpenBLAS
    /// 0.3.21, one thread, this machine's Zen). Split by columns over the encoder's team when
    /// cores are idle and the batch does not split by sentences (one sentence, or one long and
    /// one short); on this thread alone when OpenBLAS runs on one thread too. Otherwise
    /// `cblas_sgemm`, which splits even a short product between its threads, is faster (4.4
    /// against 5.9 ms a sentence on two). With the AVX-512 kernel the packed product stays ahead
    /// further: a batch of eight 16-token sentences (128 rows) ran 454 against 384 sentences/s on
    /// two threads, 256 against 241 on one; at 512 rows OpenBLAS was ahead again (Zen 4).
    static let packedRowLimit = SIMDLevel.active >= .avx512 ? 256 : 96

    /// `y = x · W` for a row-major `[rows, inputs]` x and an `[inputs, outputs]` W (see
    /// ``BertWeights`` for why the weights are held transposed).
    private func project(_ x: UnsafePointer<Float>, rows: Int, weight: ProjectionWeight, into y: UnsafeMutablePointer<Float>) {
        if ownCoreOnly, let panels = weight.panels,
           deja_gemm_packed(avx2, x, rows, weight.inputs, panels, weight.outputs, y) != 0
        {
            return
        }
        if rows <= Self.packedRowLimit, let panels = weight.panels {
            if let team, let ways = share?.ways, ways > 1,
               deja_team_gemm_packed(team, Int32(ways), avx2, x, rows, weight.inputs, panels, weight.outputs, y) != 0
            {
                return
            }
            if packedOnOneThread, deja_gemm_packed(avx2, x, rows, weight.inputs, panels, weight.outputs, y) != 0 {
                return
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(weight.outputs), Int32(weight.inputs),
                    1, x, Int32(weight.inputs), weight.matrix, Int32(weight.outputs), 0, y, Int32(weight.outputs))
    }

    /// Mean over each sentence's tokens (all real: nothing is padded), then L2 normalisation.
    private func pool(_ batch: [[Int32]], _ x: UnsafePointer<Float>) -> [[Float]] {
        let h = weights.shape.hiddenSize
        var first = 0
        return batch.map { sequence in
            var vector = [Float](repeating: 0, count: h)
            vector.withUnsafeMutableBufferPointer { out in
                for t in first..<(first + sequence.count) {
                    let row = x + t * h
                    for c in 0..<h { out[c] += row[c] }
                }
                var norm: Float = 0
                for c in 0..<h { norm += out[c] * out[c] }
                let inverse = norm > 0 ? 1 / norm.squareRoot() : 0
                for c in 0..<h { out[c] *= inverse }
            }
            first += sequence.count
            return vector
        }
    }
}

/// The shares of one batch split by sentences, and what each gave. Each share is run by one
/// thread, which writes only its own slot of `results`.
private final class SplitPass {
    let shares: [[[Int32]]]
    let encoders: [BertEncoder]
    let results: UnsafeMutableBufferPointer<[[Float]]>

    init(shares: [[[Int32]]], encoders: [BertEncoder]) {
        self.shares = shares
        self.encoders = encoders
        results = .allocate(capacity: shares.count)
        results.initialize(repeating: [])
    }

    deinit {
        results.deinitialize()
        results.deallocate()
    }

    func run(_ share: Int) {
        let batch = shares[share]
        results[share] = encoders[share].encodePass(batch, tokens: batch.reduce(0) { $0 + $1.count }, ownCoreOnly: true)
    }

    func vectors() -> [[Float]] { results.flatMap { $0 } }
}
