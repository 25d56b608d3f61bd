import CDNNL

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

/// The element type of a matmul operand in memory.
enum ElementType: Hashable, Sendable {
    case f32
    /// bfloat16: float32's upper 16 bits (8-bit exponent, 7-bit mantissa), rounded to nearest even.
    case bf16

    var dnnl: dnnl_data_type_t { self == .f32 ? dnnl_f32 : dnnl_bf16 }
    var byteCount: Int { self == .f32 ? 4 : 2 }
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
///
/// The destination is always f32. With `.bf16` operands oneDNN multiplies bf16 values and accumulates in f32.
struct MatMulSpec: Hashable, Sendable {
    var src: TensorLayout
    var weights: TensorLayout
    var dst: TensorLayout
    var srcType = ElementType.f32
    var weightsType = ElementType.f32
    /// The weights are in the blocked layout oneDNN chose for this (K, N) (`PackedWeights`), not `weights.strides`.
    var packedWeights = false
    /// A 2-D f32 linear layer run as a 1x1 convolution (`ConvolutionLinear`), its weights packed for it.
    var viaConvolution = false
    var hasBias: Bool
    /// Multiplies the product before the bias (the attention's 1/sqrt(d)); 1 for none.
    var scale: Float
    var epilogue: MatMulEpilogue

    /// A linear layer `y = x W^T + b` over `rows` rows, with PyTorch's weight `W (outFeatures, inFeatures)`
    /// read in place as the transposed `(inFeatures, outFeatures)` matrix.
    /// With `packed`, the weights are in oneDNN's blocked layout: bf16 for the matmul (`srcType` says what the
    /// rows are), or f32 for the 1x1 convolution when `convolution` is set.
    static func linear(rows: Int, inFeatures: Int, outFeatures: Int, hasBias: Bool = true,
                       epilogue: MatMulEpilogue = .none, packed: Bool = false,
                       srcType: ElementType = .f32, convolution: Bool = false) -> MatMulSpec {
        MatMulSpec(src: TensorLayout([rows, inFeatures]),
                   weights: TensorLayout(dims: [inFeatures, outFeatures], strides: [1, inFeatures]),
                   dst: TensorLayout([rows, outFeatures]),
                   srcType: srcType, weightsType: packed && !convolution ? .bf16 : .f32, packedWeights: packed,
                   viaConvolution: convolution, hasBias: hasBias, scale: 1, epilogue: epilogue)
    }

    /// Multiply-adds of one call, times two: what the benchmark's GFLOP/s counts.
    var flops: Int {
        let batch = dst.dims.dropLast(2).reduce(1, *)
        let (rows, columns) = (dst.dims[dst.dims.count - 2], dst.dims[dst.dims.count - 1])
        return 2 * batch * rows * columns * src.dims[src.dims.count - 1]
    }
}
