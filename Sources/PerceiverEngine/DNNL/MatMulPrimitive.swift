import CDNNL

extension Primitive {
    /// Creates a oneDNN matmul primitive for `spec` over arguments described by `descriptors`
    /// (`MatMulSpec.descriptors`).
    static func matmul(_ spec: MatMulSpec, _ descriptors: [Int32: dnnl_memory_desc_t],
                       engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var srcMD = descriptors[DNNL_ARG_SRC]!
        var weightsMD = descriptors[DNNL_ARG_WEIGHTS]!
        var dstMD = descriptors[DNNL_ARG_DST]!
        var desc = dnnl_matmul_desc_t()
        if spec.hasBias {
            var biasMD = descriptors[DNNL_ARG_BIAS]!
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &srcMD, &weightsMD, &biasMD, &dstMD), "dnnl_matmul_desc_init")
        } else {
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &srcMD, &weightsMD, nil, &dstMD), "dnnl_matmul_desc_init")
        }
        let attributes = try PrimitiveAttributes()
        if spec.scale != 1 {
            var scale = spec.scale
            try dnnlCheck(dnnl_primitive_attr_set_output_scales(attributes.handle, 1, 0, &scale),
                          "dnnl_primitive_attr_set_output_scales")
        }
        if spec.epilogue != .none {
            var postOps: dnnl_post_ops_t?
            try dnnlCheck(dnnl_post_ops_create(&postOps), "dnnl_post_ops_create")
            defer { dnnl_post_ops_destroy(postOps) }
            switch spec.epilogue {
            case .gelu:
                try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_gelu_erf, 0, 0),
                              "dnnl_post_ops_append_eltwise(gelu_erf)")
            case .accumulate:
                try dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "dnnl_post_ops_append_sum")
            case .none:
                break
            }
            try dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes.handle, postOps),
                          "dnnl_primitive_attr_set_post_ops")
        }
        return try withUnsafePointer(to: &desc) { (pointer) throws(InferenceError) -> Primitive in
            try Primitive(name: "matmul", descriptor: UnsafeRawPointer(pointer),
                          attributes: attributes.handle, engine: engine)
        }
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
}
