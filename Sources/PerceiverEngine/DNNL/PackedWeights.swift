import CDNNL

/// A linear layer's weights converted once, at load, into the blocked layout the primitive that multiplies
/// them prefers on this CPU, so no call re-packs them: bf16 for the bf16 matmul (e.g. `BA16a64b2a` on AVX-512
/// BF16), or f32 for the 1x1 convolution of the f32 path where that is the faster kernel (`ConvolutionLinear`).
///
/// The layout depends on the weights' (K, N) and the CPU, not on the row count, so one packed copy serves
/// products of every shape. Immutable after creation; freed with the value.
final class PackedWeights: @unchecked Sendable {
    /// Which primitive the layout is for.
    enum Layout: Sendable {
        case bf16Matmul
        case f32Convolution
    }

    let layout: Layout
    /// The blocked layout: of `(K, N)` bf16 for the matmul, of `(N, K, 1)` f32 for the convolution.
    let descriptor: dnnl_memory_desc_t
    let pointer: UnsafeMutableRawPointer

    /// Packs PyTorch's `weight (N, K)`, row-major f32, read as the transposed `(K, N)` matrix (bf16 matmul) or
    /// as the `(N, K, 1)` kernel of a 1x1 convolution.
    init(weight: UnsafePointer<Float>, inFeatures k: Int, outFeatures n: Int, layout: Layout = .bf16Matmul,
         engine: DNNLEngine) throws(InferenceError) {
        var descriptor: dnnl_memory_desc_t
        let source: dnnl_memory_desc_t
        switch layout {
        case .bf16Matmul:
            descriptor = try Self.preferredLayout(inFeatures: k, outFeatures: n, engine: engine.engine)
            source = try memoryDescriptor(dims: [k, n], strides: [1, k])
        case .f32Convolution:
            descriptor = try ConvolutionLinear.preferredLayout(inFeatures: k, outFeatures: n, engine: engine.engine)
            source = try memoryDescriptor(dims: [n, k, 1], strides: [k, 1, 1])
        }
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(&descriptor), 1),
                                                   alignment: 64)
        self.layout = layout
        self.descriptor = descriptor
        // A throw from here on runs deinit, which frees `pointer`.
        let reorder = try Primitive(reorderFrom: source, to: descriptor, engine: engine.engine)
        try engine.execute(reorder, [(DNNL_ARG_FROM, try engine.memory(source, UnsafeRawPointer(weight))),
                                     (DNNL_ARG_TO, try engine.memory(descriptor, UnsafeRawPointer(pointer)))])
    }

    deinit { pointer.deallocate() }

    /// The weights layout oneDNN picks for a bf16 matmul `(M, K) x (K, N) -> (M, N) f32` (M = 256: any row
    /// count gives the same layout).
    private static func preferredLayout(inFeatures k: Int, outFeatures n: Int,
                                        engine: dnnl_engine_t) throws(InferenceError) -> dnnl_memory_desc_t {
        var src = try memoryDescriptor(dims: [256, k], strides: [k, 1], type: dnnl_bf16)
        var weights = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(k), Int64(n)]
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&weights, 2, &dims, dnnl_bf16, dnnl_format_tag_any),
                      "dnnl_memory_desc_init_by_tag(any)")
        var dst = try memoryDescriptor(dims: [256, n], strides: [n, 1])
        var desc = dnnl_matmul_desc_t()
        try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "dnnl_matmul_desc_init(bf16)")
        return try Primitive.preferredWeights(name: "matmul(bf16)", descriptor: &desc, engine: engine)
    }
}
