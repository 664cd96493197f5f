import CBLAS
import VectorIndex

/// Every tensor of a BERT encoder, checked by name, dtype and shape against ``BertShape``.
///
/// Embeddings, biases and norms stay in the memory-mapped file. The projection matrices are
/// copied out once at load, transposed to `[in, out]`: OpenBLAS repacks the weight operand on
/// every `sgemm`, and for a short batch (16 rows) that repacking is a quarter of the time in the
/// stored `[out, in]` layout and markedly cheaper in this one (about 16% less `sgemm` time per
/// layer, measured with OpenBLAS 0.3.21 on Zen). With AVX2 and FMA each matrix is also packed
/// once into column panels, for the short products of a sentence or two, where even that
/// repacking dominates (see `deja_gemm_packed`): 42 MB more for MiniLM's six layers. The pooler
/// (`pooler.dense`) is not used by sentence embeddings and is not required.
///
/// `@unchecked Sendable`: raw buffers written at load and only read after it.
final class BertWeights: @unchecked Sendable {
    let shape: BertShape
    let file: SafeTensorsFile
    let wordEmbeddings: UnsafePointer<Float>
    let positionEmbeddings: UnsafePointer<Float>
    let tokenTypeEmbeddings: UnsafePointer<Float>
    let embeddingNorm: UnsafePointer<Float>
    let embeddingNormBias: UnsafePointer<Float>
    let layers: [BertLayerWeights]
    /// Every layer's projection matrices, transposed, and the stacked query/key/value bias.
    private let projections: UnsafeMutableBufferPointer<Float>
    /// The same matrices packed into panels, at the same offsets; `nil` without AVX2/FMA.
    private let panels: UnsafeMutableBufferPointer<Float>?
    /// Whether the packed kernel runs these weights (AVX2/FMA or better).
    var packed: Bool { panels != nil }

    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` naming the first tensor that is
    ///   missing or has another dtype or shape.
    init(file: SafeTensorsFile, shape: BertShape) throws(EmbeddingError) {
        self.file = file
        self.shape = shape
        // Checkpoints saved from `BertForMaskedLM` and friends prefix every name with "bert.".
        let prefix = file.tensors["embeddings.word_embeddings.weight"] == nil
            && file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        let h = shape.hiddenSize, i = shape.intermediateSize
        func tensor(_ name: String, _ dims: [Int]) throws(EmbeddingError) -> UnsafeBufferPointer<Float> {
            try file.floats(prefix + name, shape: dims)
        }
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [shape.vocabularySize, h]).baseAddress!
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [shape.maxPositions, h]).baseAddress!
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [shape.typeVocabularySize, h]).baseAddress!
        embeddingNorm = try tensor("embeddings.LayerNorm.weight", [h]).baseAddress!
        embeddingNormBias = try tensor("embeddings.LayerNorm.bias", [h]).baseAddress!

        // Per layer: qkv [h, 3h], its bias [3h], attention output [h, h], intermediate [h, i],
        // output [i, h].
        let perLayer = 3 * h * h + 3 * h + h * h + 2 * h * i
        let projections = UnsafeMutableBufferPointer<Float>.allocate(capacity: perLayer * shape.layers)
        var layers: [BertLayerWeights] = []
        /// Writes the `[rows, cols]` matrix `w` transposed into `out` at column offset `column`
        /// of a `[cols, width]` matrix.
        func transpose(_ w: UnsafeBufferPointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>,
                       width: Int, column: Int = 0) {
            for r in 0..<rows { for c in 0..<cols { out[c * width + column + r] = w[r * cols + c] } }
        }
        do {
            for l in 0..<shape.layers {
                let p = "encoder.layer.\(l)."
                let qkv = projections.baseAddress! + l * perLayer
                let qkvBias = qkv + 3 * h * h
                let attentionOutput = qkvBias + 3 * h
                let intermediate = attentionOutput + h * h
                let output = intermediate + h * i
                for (j, part) in ["query", "key", "value"].enumerated() {
                    let weight = try tensor(p + "attention.self.\(part).weight", [h, h])
                    let bias = try tensor(p + "attention.self.\(part).bias", [h])
                    transpose(weight, rows: h, cols: h, into: qkv, width: 3 * h, column: j * h)
                    (qkvBias + j * h).update(from: bias.baseAddress!, count: h)
                }
                transpose(try tensor(p + "attention.output.dense.weight", [h, h]), rows: h, cols: h,
                          into: attentionOutput, width: h)
                transpose(try tensor(p + "intermediate.dense.weight", [i, h]), rows: i, cols: h,
                          into: intermediate, width: i)
                transpose(try tensor(p + "output.dense.weight", [h, i]), rows: h, cols: i, into: output, width: h)
                func weight(_ m: UnsafeMutablePointer<Float>, _ inputs: Int, _ outputs: Int) -> ProjectionWeight {
                    ProjectionWeight(matrix: UnsafePointer(m), panels: nil, inputs: inputs, outputs: outputs)
                }
                layers.append(BertLayerWeights(
                    qkv: weight(qkv, h, 3 * h), qkvBias: UnsafePointer(qkvBias),
                    attentionOutput: weight(attentionOutput, h, h),
                    attentionOutputBias: try tensor(p + "attention.output.dense.bias", [h]).baseAddress!,
                    attentionNorm: try tensor(p + "attention.output.LayerNorm.weight", [h]).baseAddress!,
                    attentionNormBias: try tensor(p + "attention.output.LayerNorm.bias", [h]).baseAddress!,
                    intermediate: weight(intermediate, h, i),
                    intermediateBias: try tensor(p + "intermediate.dense.bias", [i]).baseAddress!,
                    output: weight(output, i, h),
                    outputBias: try tensor(p + "output.dense.bias", [h]).baseAddress!,
                    outputNorm: try tensor(p + "output.LayerNorm.weight", [h]).baseAddress!,
                    outputNormBias: try tensor(p + "output.LayerNorm.bias", [h]).baseAddress!))
            }
        } catch {
            projections.deallocate()
            throw error
        }
        if file.tensors["\(prefix)encoder.layer.\(shape.layers).attention.self.query.weight"] != nil {
            projections.deallocate()
            throw .modelFile(path: file.path, reason: "has more layers than num_hidden_layers = \(shape.layers) in config.json")
        }
        var panels: UnsafeMutableBufferPointer<Float>?
        if SIMDLevel.active >= .avx2 {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: projections.count * MemoryLayout<Float>.stride, alignment: 64)
            let packed = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: projections.count),
                                                    count: projections.count)
            func pack(_ w: inout ProjectionWeight) {
                let offset = w.matrix - UnsafePointer(projections.baseAddress!)
                deja_pack_panels(w.matrix, w.inputs, w.outputs, packed.baseAddress! + offset)
                w.panels = UnsafePointer(packed.baseAddress! + offset)
            }
            for l in layers.indices {
                pack(&layers[l].qkv)
                pack(&layers[l].attentionOutput)
                pack(&layers[l].intermediate)
                pack(&layers[l].output)
            }
            panels = packed
        }
        self.layers = layers
        self.projections = projections
        self.panels = panels
    }

    deinit {
        projections.deallocate()
        panels?.deallocate()
    }
}
