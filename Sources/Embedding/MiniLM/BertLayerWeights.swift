import CBLAS

/// One encoder layer's parameters. Each projection matrix is held transposed, `[in, out]`
/// row-major (PyTorch's `Linear` stores `[out, in]`), so every projection is `x · W + b`.
struct BertLayerWeights {
    /// Query, key and value side by side in one `[H, 3H]` matrix, so the three projections are
    /// one matrix product.
    var qkv: ProjectionWeight
    var qkvBias: UnsafePointer<Float>
    var attentionOutput: ProjectionWeight
    var attentionOutputBias: UnsafePointer<Float>
    var attentionNorm: UnsafePointer<Float>
    var attentionNormBias: UnsafePointer<Float>
    var intermediate: ProjectionWeight
    var intermediateBias: UnsafePointer<Float>
    var output: ProjectionWeight
    var outputBias: UnsafePointer<Float>
    var outputNorm: UnsafePointer<Float>
    var outputNormBias: UnsafePointer<Float>
}
