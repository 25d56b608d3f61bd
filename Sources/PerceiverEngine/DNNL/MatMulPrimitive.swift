import CDNNL

extension Primitive {
    /// Creates a oneDNN matmul primitive for `spec`.
    static func matmul(_ spec: MatMulSpec, engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var srcMD = try memoryDescriptor(dims: spec.src.dims, strides: spec.src.strides)
        var weightsMD = try memoryDescriptor(dims: spec.weights.dims, strides: spec.weights.strides)
        var dstMD = try memoryDescriptor(dims: spec.dst.dims, strides: spec.dst.strides)
        var desc = dnnl_matmul_desc_t()
        if spec.hasBias {
            var biasMD = try memoryDescriptor(dims: biasDims(spec), strides: contiguousStrides(biasDims(spec)))
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

    /// The bias broadcasts over every dimension but the last: `(1, ..., 1, N)`.
    static func biasDims(_ spec: MatMulSpec) -> [Int] {
        var dims = [Int](repeating: 1, count: spec.dst.dims.count)
        dims[dims.count - 1] = spec.dst.dims[dims.count - 1]
        return dims
    }
}
