import CDNNL

extension Primitive {
    /// Creates a oneDNN matmul primitive for `spec` over arguments described by `descriptors`
    /// (`MatMulSpec.descriptors`).
    static func matmul(_ spec: MatMulSpec, _ descriptors: [Int32: dnnl_memory_desc_t],
                       engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var desc = try matmulDescriptor(descriptors)
        let attributes = try PrimitiveAttributes()
        if spec.scale != 1 {
            var scale = spec.scale
            try dnnlCheck(dnnl_primitive_attr_set_output_scales(attributes.handle, 1, 0, &scale),
                          "dnnl_primitive_attr_set_output_scales")
        }
        try attributes.append(spec.epilogue)
        return try withUnsafePointer(to: &desc) { (pointer) throws(InferenceError) -> Primitive in
            try Primitive(name: "matmul", descriptor: UnsafeRawPointer(pointer),
                          attributes: attributes.handle, engine: engine)
        }
    }

}

extension Primitive {
    /// The matmul over `descriptors`' source, weights, destination and, when present, bias.
    static func matmulDescriptor(_ descriptors: [Int32: dnnl_memory_desc_t]) throws(InferenceError)
        -> dnnl_matmul_desc_t {
        var src = descriptors[DNNL_ARG_SRC]!, weights = descriptors[DNNL_ARG_WEIGHTS]!, dst = descriptors[DNNL_ARG_DST]!
        var desc = dnnl_matmul_desc_t()
        let status = withOptionalPointer(descriptors[DNNL_ARG_BIAS]) { bias in
            dnnl_matmul_desc_init(&desc, &src, &weights, bias, &dst)
        }
        try dnnlCheck(status, "dnnl_matmul_desc_init")
        return desc
    }

    /// The implementation oneDNN picks for the plain matmul over `descriptors` (no attributes), without
    /// creating it.
    static func matmulImplementation(_ descriptors: [Int32: dnnl_memory_desc_t],
                                     engine: dnnl_engine_t) throws(InferenceError) -> String {
        var desc = try matmulDescriptor(descriptors)
        return try implementation(name: "matmul", descriptor: &desc, engine: engine)
    }
}

extension PrimitiveAttributes {
    /// Adds `epilogue` as post-ops: GELU (erf) as an eltwise, the residual add as a sum into the destination.
    func append(_ epilogue: MatMulEpilogue) throws(InferenceError) {
        guard epilogue != .none else { return }
        var postOps: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&postOps), "dnnl_post_ops_create")
        defer { dnnl_post_ops_destroy(postOps) }
        switch epilogue {
        case .gelu:
            try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_gelu_erf, 0, 0),
                          "dnnl_post_ops_append_eltwise(gelu_erf)")
        case .accumulate:
            try dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "dnnl_post_ops_append_sum")
        case .none:
            break
        }
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "dnnl_primitive_attr_set_post_ops")
    }
}

extension MatMulSpec {
    /// The bias broadcasts over every dimension but the last: `(1, ..., 1, N)`.
    var biasDims: [Int] {
        var dims = [Int](repeating: 1, count: dst.dims.count)
        dims[dims.count - 1] = dst.dims[dims.count - 1]
        return dims
    }

    /// The memory descriptor of each argument; `packed` is the blocked weights' own descriptor when
    /// `packedWeights` is set.
    func descriptors(packed: dnnl_memory_desc_t?) throws(InferenceError) -> [Int32: dnnl_memory_desc_t] {
        if viaConvolution { return try convolutionDescriptors(packed: packed) }
        var descriptors = [
            DNNL_ARG_SRC: try memoryDescriptor(dims: src.dims, strides: src.strides, type: srcType.dnnl),
            DNNL_ARG_DST: try memoryDescriptor(dims: dst.dims, strides: dst.strides),
        ]
        if let packed {
            descriptors[DNNL_ARG_WEIGHTS] = packed
        } else {
            descriptors[DNNL_ARG_WEIGHTS] = try memoryDescriptor(dims: weights.dims, strides: weights.strides,
                                                                 type: weightsType.dnnl)
        }
        if hasBias { descriptors[DNNL_ARG_BIAS] = try memoryDescriptor(dims: biasDims, strides: contiguousStrides(biasDims)) }
        return descriptors
    }

    /// A linear layer's arguments as the 1x1 convolution sees them (`ConvolutionLinear`): `x (R, K)` as `nwc`
    /// `(1, K, R)`, `y (R, N)` as `(1, N, R)`, the bias `(N)`, the weights in their packed layout.
    private func convolutionDescriptors(packed: dnnl_memory_desc_t?) throws(InferenceError)
        -> [Int32: dnnl_memory_desc_t] {
        guard let packed else { preconditionFailure("a convolution's weights are always packed") }
        let (rows, k, n) = (src.dims[0], src.dims[1], dst.dims[1])
        var descriptors = [
            DNNL_ARG_SRC: try memoryDescriptor(dims: [1, k, rows], strides: [rows * k, 1, k]),
            DNNL_ARG_DST: try memoryDescriptor(dims: [1, n, rows], strides: [rows * n, 1, n]),
            DNNL_ARG_WEIGHTS: packed,
        ]
        if hasBias { descriptors[DNNL_ARG_BIAS] = try memoryDescriptor(dims: [n], strides: [1]) }
        return descriptors
    }
}
