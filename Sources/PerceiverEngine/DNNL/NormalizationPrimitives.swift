import CDNNL

extension Primitive {
    /// Layer normalization over the last axis of `(rows, channels)` with affine scale and shift.
    ///
    /// `torch.nn.LayerNorm(channels)` with eps 1e-5: every Perceiver LayerNorm (docs/reference/perceiver.md TL;DR 2).
    static func layerNorm(rows: Int, channels: Int, epsilon: Float,
                          engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var dataMD = try memoryDescriptor(dims: [rows, channels], strides: [channels, 1])
        var desc = dnnl_layer_normalization_desc_t()
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        try dnnlCheck(dnnl_layer_normalization_forward_desc_init(
            &desc, dnnl_forward_inference, &dataMD, nil, epsilon, flags),
            "dnnl_layer_normalization_forward_desc_init")
        let attributes = try PrimitiveAttributes()
        return try withUnsafePointer(to: &desc) { (pointer) throws(InferenceError) -> Primitive in
            try Primitive(name: "layer_norm", descriptor: UnsafeRawPointer(pointer),
                          attributes: attributes.handle, engine: engine)
        }
    }

    /// Softmax over the last axis of `(rows, columns)`, in place allowed (the `accurate` algorithm
    /// subtracts the row maximum, as `torch.softmax` does).
    static func softmax(rows: Int, columns: Int, engine: dnnl_engine_t) throws(InferenceError) -> Primitive {
        var dataMD = try memoryDescriptor(dims: [rows, columns], strides: [columns, 1])
        var desc = dnnl_softmax_v2_desc_t()
        try dnnlCheck(dnnl_softmax_v2_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_softmax_accurate, &dataMD, &dataMD, 1),
            "dnnl_softmax_v2_forward_desc_init")
        let attributes = try PrimitiveAttributes()
        return try withUnsafePointer(to: &desc) { (pointer) throws(InferenceError) -> Primitive in
            try Primitive(name: "softmax", descriptor: UnsafeRawPointer(pointer),
                          attributes: attributes.handle, engine: engine)
        }
    }
}
