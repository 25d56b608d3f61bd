import CDNNL

/// A linear layer's weights converted once, at load, to bf16 in the blocked layout oneDNN's matmul prefers
/// for this CPU (e.g. `BA16a64b2a` on AVX-512 BF16), so no call re-packs them.
///
/// The layout depends on the weights' (K, N) and the CPU, not on the row count, so one packed copy serves
/// matmuls of every shape. Immutable after creation; freed with the value.
final class PackedWeights: @unchecked Sendable {
    /// The blocked bf16 layout of `(K, N)`.
    let descriptor: dnnl_memory_desc_t
    let pointer: UnsafeMutableRawPointer

    /// Packs PyTorch's `weight (N, K)`, row-major f32, read as the transposed `(K, N)` matrix.
    init(weight: UnsafePointer<Float>, inFeatures k: Int, outFeatures n: Int,
         engine: DNNLEngine) throws(InferenceError) {
        var descriptor = try Self.preferredLayout(inFeatures: k, outFeatures: n, engine: engine.engine)
        let source = try memoryDescriptor(dims: [k, n], strides: [1, k])
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(&descriptor), 1),
                                                   alignment: 64)
        self.descriptor = descriptor
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
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil), "dnnl_primitive_desc_create(bf16)")
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0) else {
            throw InferenceError.backend(operation: "dnnl_primitive_desc_query_md(weights)", status: -1)
        }
        return chosen.pointee
    }
}
