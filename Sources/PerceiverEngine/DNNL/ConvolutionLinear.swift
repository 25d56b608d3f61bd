import CDNNL

/// Linear layers as oneDNN 1x1 convolutions: the f32 path on CPUs where oneDNN 2.6's f32 matmul is its generic
/// `gemm:jit` (every CPU below AVX-512; on AVX-512 it is the faster `brg:avx512_core` brgemm).
///
/// `y (R, N) = x (R, K) W^T + b` is a 1x1 convolution over a 1-D image of width R: `x` row-major is exactly the
/// `nwc` layout of `(1, K, R)`, and `y` that of `(1, N, R)`, so activations stay as they are; only the weights
/// are reordered, once at load, into the blocked layout the convolution prefers (`PackedWeights`, as bf16
/// weights are for the bf16 matmul). oneDNN's direct `jit_1x1:avx2` kernel then multiplies at 73-78 GFLOP/s on
/// an AVX2 EPYC (family 23 model 1, 2 threads) where the matmul's reached 69-72 for the language perceiver's
/// 256 x 1280 x 1280 (ONNX Runtime's MLAS 75 in the same window; issue 23). Bias, GELU and the residual sum are
/// the same fused post-ops as the matmul's. Rows are independent in both, so results differ from the matmul
/// path only in summation order (tested against the naive reference with the same tolerance).
public enum ConvolutionLinear {
    /// Whether f32 linear layers run as convolutions here, decided once per process: when oneDNN's f32 matmul
    /// for the probe shape is `gemm:*` and a 1x1 convolution of it is a `jit_1x1` kernel.
    public static var isPreferred: Bool { probed.preferred }

    /// "convolution (jit_1x1:avx2; matmul would be gemm:jit)" or "matmul (brg:avx512_core)": for reports.
    public static var summary: String {
        probed.preferred ? "convolution (\(probed.convolution); matmul would be \(probed.matmul))"
            : "matmul (\(probed.matmul))"
    }

    /// What oneDNN picks here for the language perceiver's 256 x 1280 x 1280 as a matmul and as a convolution.
    private static let probed: (preferred: Bool, matmul: String, convolution: String) = {
        do {
            let engine = try DNNLEngine()
            let spec = MatMulSpec.linear(rows: 256, inFeatures: 1280, outFeatures: 1280)
            let matmul = try Primitive.matmulImplementation(try spec.descriptors(packed: nil), engine: engine.engine)
            let convolution = try implementation(rows: 256, inFeatures: 1280, outFeatures: 1280, engine: engine)
            return (matmul.hasPrefix("gemm") && convolution.hasPrefix("jit_1x1"), matmul, convolution)
        } catch {
            return (false, "unknown", "unavailable: \(error)")
        }
    }()

    /// The implementation oneDNN picks for `rows` x `inFeatures` -> `outFeatures` as a 1x1 convolution, read
    /// from its primitive descriptor (nothing is JIT-compiled).
    static func implementation(rows: Int, inFeatures: Int, outFeatures: Int,
                               engine: DNNLEngine) throws(InferenceError) -> String {
        let spec = MatMulSpec.linear(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, hasBias: false,
                                     packed: true, convolution: true)
        let weights = try preferredLayout(inFeatures: inFeatures, outFeatures: outFeatures, engine: engine.engine)
        var desc = try descriptor(spec.descriptors(packed: weights))
        return try Primitive.implementation(name: "convolution", descriptor: &desc, engine: engine.engine)
    }

    /// The weights layout oneDNN picks for the 1x1 convolution `(K) -> (N)` (rows 256: the layout depends on
    /// the channels, not the width).
    static func preferredLayout(inFeatures k: Int, outFeatures n: Int,
                                engine: dnnl_engine_t) throws(InferenceError) -> dnnl_memory_desc_t {
        var weights = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(n), Int64(k), 1]
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&weights, 3, &dims, dnnl_f32, dnnl_format_tag_any),
                      "dnnl_memory_desc_init_by_tag(any)")
        var desc = try descriptor([
            DNNL_ARG_SRC: try memoryDescriptor(dims: [1, k, 256], strides: [256 * k, 1, k]),
            DNNL_ARG_DST: try memoryDescriptor(dims: [1, n, 256], strides: [256 * n, 1, n]),
            DNNL_ARG_WEIGHTS: weights,
        ])
        return try Primitive.preferredWeights(name: "convolution", descriptor: &desc, engine: engine)
    }

    /// The forward 1x1 convolution (stride 1, no padding) over `descriptors`' source, weights, destination
    /// and, when present, bias.
    static func descriptor(_ descriptors: [Int32: dnnl_memory_desc_t]) throws(InferenceError)
        -> dnnl_convolution_desc_t {
        var src = descriptors[DNNL_ARG_SRC]!, weights = descriptors[DNNL_ARG_WEIGHTS]!, dst = descriptors[DNNL_ARG_DST]!
        var desc = dnnl_convolution_desc_t()
        var strides: [Int64] = [1], padding: [Int64] = [0]
        let status = withOptionalPointer(descriptors[DNNL_ARG_BIAS]) { bias in
            dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src,
                                               &weights, bias, &dst, &strides, &padding, &padding)
        }
        try dnnlCheck(status, "dnnl_convolution_forward_desc_init")
        return desc
    }
}

extension Primitive {
    /// A 1x1 convolution computing the linear layer `spec` (`spec.viaConvolution`) over `descriptors`
    /// (`MatMulSpec.descriptors`), with the matmul's epilogues as post-ops.
    static func convolution(_ spec: MatMulSpec, _ descriptors: [Int32: dnnl_memory_desc_t],
                            engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var desc = try ConvolutionLinear.descriptor(descriptors)
        let attributes = try PrimitiveAttributes()
        try attributes.append(spec.epilogue)
        return try withUnsafePointer(to: &desc) { (pointer) throws(InferenceError) -> Primitive in
            try Primitive(name: "convolution", descriptor: UnsafeRawPointer(pointer),
                          attributes: attributes.handle, engine: engine)
        }
    }
}
