import CDNNL

/// Checks a oneDNN status and turns a failure into `InferenceError.backend` naming the call.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws(InferenceError) {
    if status != dnnl_success {
        throw InferenceError.backend(operation: operation(), status: Int32(bitPattern: status.rawValue))
    }
}

/// A oneDNN memory descriptor for a plain (strided) f32 or bf16 tensor.
func memoryDescriptor(dims: [Int], strides: [Int], type: dnnl_data_type_t = dnnl_f32)
    throws(InferenceError) -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    let d = dims.map { Int64($0) }
    let s = strides.map { Int64($0) }
    try dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(d.count), d, type, s),
                  "dnnl_memory_desc_init_by_strides(\(dims), \(strides))")
    return md
}

/// Row-major (contiguous) strides for `dims`.
func contiguousStrides(_ dims: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: dims.count)
    var running = 1
    for i in stride(from: dims.count - 1, through: 0, by: -1) {
        strides[i] = running
        running *= dims[i]
    }
    return strides
}

/// `DNNL_ARG_ATTR_MULTIPLE_POST_OP(idx) | DNNL_ARG_SRC_1`: the macro does not import into Swift.
func postOpBinarySourceArg(_ index: Int32) -> Int32 {
    DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (index + 1) | DNNL_ARG_SRC_1
}

/// `body` with a pointer to `value`, or with nil when there is none: an optional argument of a C call (a
/// matmul's or convolution's bias descriptor).
func withOptionalPointer<T, R>(_ value: T?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard var value else { return body(nil) }
    return withUnsafePointer(to: &value) { body($0) }
}
