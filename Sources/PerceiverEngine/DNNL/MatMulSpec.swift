/// The dims and element strides of one plain tensor as oneDNN sees it.
struct TensorLayout: Hashable, Sendable {
    var dims: [Int]
    var strides: [Int]

    /// A contiguous row-major layout.
    init(_ dims: [Int]) {
        self.dims = dims
        self.strides = contiguousStrides(dims)
    }

    init(dims: [Int], strides: [Int]) {
        self.dims = dims
        self.strides = strides
    }
}

/// What a matmul does to its result before storing it.
enum MatMulEpilogue: Hashable, Sendable {
    /// `dst = scale * (src x weights) + bias`
    case none
    /// `dst = gelu_erf(src x weights + bias)`: the MLP's first layer.
    case gelu
    /// `dst += src x weights + bias`: a residual add into the destination's current contents.
    case accumulate
}

/// The geometry and fused epilogue of one matmul: the key of the primitive cache.
///
/// 2-D: src (R, K), weights (K, N), dst (R, N). 4-D batched attention: src (B, H, R, K),
/// weights (B, H, K, N), dst (B, H, R, N), each with arbitrary strides, so head splits and
/// transposes are read in place rather than copied.
struct MatMulSpec: Hashable, Sendable {
    var src: TensorLayout
    var weights: TensorLayout
    var dst: TensorLayout
    var hasBias: Bool
    /// Multiplies the product before the bias (the attention's 1/sqrt(d)); 1 for none.
    var scale: Float
    var epilogue: MatMulEpilogue

    /// A linear layer `y = x W^T + b` over `rows` rows, with PyTorch's weight `W (outFeatures, inFeatures)`
    /// read in place as the transposed `(inFeatures, outFeatures)` matrix.
    static func linear(rows: Int, inFeatures: Int, outFeatures: Int, hasBias: Bool = true,
                       epilogue: MatMulEpilogue = .none) -> MatMulSpec {
        MatMulSpec(src: TensorLayout([rows, inFeatures]),
                   weights: TensorLayout(dims: [inFeatures, outFeatures], strides: [1, inFeatures]),
                   dst: TensorLayout([rows, outFeatures]),
                   hasBias: hasBias, scale: 1, epilogue: epilogue)
    }
}
