import CDNNL

extension Primitive {
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
