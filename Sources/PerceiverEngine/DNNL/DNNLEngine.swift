import CDNNL

/// One oneDNN CPU engine and an in-order stream on it. Owns both handles and frees them in `deinit`.
///
/// Not thread-safe: a `DNNLEngine` belongs to one `ComputeContext`, which serializes its use.
final class DNNLEngine: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    init() throws(InferenceError) {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
        guard let engine else { throw InferenceError.backend(operation: "dnnl_engine_create", status: -1) }
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        guard status == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            throw InferenceError.backend(operation: "dnnl_stream_create", status: Int32(bitPattern: status.rawValue))
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Wraps `pointer` (not owned) as oneDNN memory described by `md`.
    func memory(_ md: dnnl_memory_desc_t, _ pointer: UnsafeRawPointer) throws(InferenceError) -> DNNLMemory {
        try DNNLMemory(md: md, engine: engine, pointer: UnsafeMutableRawPointer(mutating: pointer))
    }

    /// Runs `primitive` with `args` and waits for it.
    func execute(_ primitive: Primitive, _ args: [(Int32, DNNLMemory)]) throws(InferenceError) {
        var execArgs = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        if let scratch = primitive.scratchpad {
            execArgs.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratch.handle))
        }
        let status = execArgs.withUnsafeBufferPointer {
            dnnl_primitive_execute(primitive.handle, stream, Int32($0.count), $0.baseAddress)
        }
        try dnnlCheck(status, "dnnl_primitive_execute(\(primitive.name))")
        try dnnlCheck(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }
}

/// A oneDNN memory object over a buffer we own elsewhere. Freed in `deinit`; the buffer is not.
final class DNNLMemory {
    let handle: dnnl_memory_t

    init(md: dnnl_memory_desc_t, engine: dnnl_engine_t, pointer: UnsafeMutableRawPointer?) throws(InferenceError) {
        var md = md
        var memory: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&memory, &md, engine, pointer), "dnnl_memory_create")
        guard let memory else { throw InferenceError.backend(operation: "dnnl_memory_create", status: -1) }
        handle = memory
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// A created oneDNN primitive with its own user-mode scratchpad, so concurrent contexts never share one.
final class Primitive {
    let handle: dnnl_primitive_t
    let name: String
    /// The implementation oneDNN chose (e.g. `brg:avx512_core`), for logs and benchmarks.
    let implementation: String
    let scratchpad: DNNLMemory?
    /// Bytes of `scratchpad` (0 without one): what a cache of primitives holds besides their code.
    let scratchpadBytes: Int
    private let scratchBuffer: UnsafeMutableRawPointer?

    /// Creates the primitive from `descriptor` (an op descriptor such as `dnnl_matmul_desc_t`).
    convenience init(name: String, descriptor: UnsafeRawPointer, attributes: dnnl_primitive_attr_t?,
                     engine: dnnl_engine_t) throws(InferenceError) {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, descriptor, attributes, engine, nil),
                      "dnnl_primitive_desc_create(\(name))")
        guard let pd else { throw InferenceError.backend(operation: "primitive_desc(\(name))", status: -1) }
        defer { dnnl_primitive_desc_destroy(pd) }
        try self.init(name: name, pd: pd, engine: engine)
    }

    /// What oneDNN would create for `descriptor` (an op descriptor), read by `body` from its primitive
    /// descriptor without creating the primitive (no JIT, no scratchpad): its implementation, its chosen layouts.
    static func inspect<R>(name: String, descriptor: UnsafeRawPointer, engine: dnnl_engine_t,
                           _ body: (dnnl_primitive_desc_t) throws(InferenceError) -> R) throws(InferenceError) -> R {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, descriptor, nil, engine, nil),
                      "dnnl_primitive_desc_create(\(name))")
        guard let pd else { throw InferenceError.backend(operation: "primitive_desc(\(name))", status: -1) }
        defer { dnnl_primitive_desc_destroy(pd) }
        return try body(pd)
    }

    /// The implementation oneDNN picks for `descriptor`, e.g. `jit_1x1:avx2` (`inspect`).
    static func implementation(name: String, descriptor: UnsafeRawPointer,
                               engine: dnnl_engine_t) throws(InferenceError) -> String {
        try inspect(name: name, descriptor: descriptor, engine: engine) { pd in
            var info: UnsafePointer<CChar>?
            _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
            return info.map { String(cString: $0) } ?? "unknown"
        }
    }

    /// The weights layout oneDNN picks for `descriptor`, whose weights were described with
    /// `dnnl_format_tag_any` (`inspect`): what packed weights are reordered into.
    static func preferredWeights(name: String, descriptor: UnsafeRawPointer,
                                 engine: dnnl_engine_t) throws(InferenceError) -> dnnl_memory_desc_t {
        try inspect(name: name, descriptor: descriptor, engine: engine) { (pd) throws(InferenceError) in
            guard let chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0) else {
                throw InferenceError.backend(operation: "dnnl_primitive_desc_query_md(weights of \(name))", status: -1)
            }
            return chosen.pointee
        }
    }

    /// A reorder (copy with layout or type conversion) from `source` to `destination` memory.
    convenience init(reorderFrom source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t,
                     engine: dnnl_engine_t) throws(InferenceError) {
        var (source, destination) = (source, destination)
        let attributes = try PrimitiveAttributes()
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &source, engine, &destination, engine, attributes.handle),
                      "dnnl_reorder_primitive_desc_create")
        guard let pd else { throw InferenceError.backend(operation: "primitive_desc(reorder)", status: -1) }
        defer { dnnl_primitive_desc_destroy(pd) }
        try self.init(name: "reorder", pd: pd, engine: engine)
    }

    /// The primitive of a created primitive descriptor (which the caller still owns), with its scratchpad.
    private init(name: String, pd: dnnl_primitive_desc_t, engine: dnnl_engine_t) throws(InferenceError) {
        var info: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        implementation = info.map { String(cString: $0) } ?? "unknown"
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, pd), "dnnl_primitive_create(\(name))")
        guard let primitive else { throw InferenceError.backend(operation: "primitive(\(name))", status: -1) }
        handle = primitive
        self.name = name
        var scratchBuffer: UnsafeMutableRawPointer?
        var scratchpad: DNNLMemory?
        var scratchpadBytes = 0
        if let md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) {
            let size = dnnl_memory_desc_get_size(md)
            if size > 0 {
                scratchpadBytes = size
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                scratchBuffer = buffer
                do {
                    scratchpad = try DNNLMemory(md: md.pointee, engine: engine, pointer: buffer)
                } catch {
                    buffer.deallocate()
                    dnnl_primitive_destroy(primitive)
                    throw error
                }
            }
        }
        self.scratchBuffer = scratchBuffer
        self.scratchpad = scratchpad
        self.scratchpadBytes = scratchpadBytes
    }

    deinit {
        dnnl_primitive_destroy(handle)
        scratchBuffer?.deallocate()
    }
}

/// Owns a `dnnl_primitive_attr_t` (user scratchpad mode always on) and its post-ops.
final class PrimitiveAttributes {
    let handle: dnnl_primitive_attr_t

    init() throws(InferenceError) {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        guard let attr else { throw InferenceError.backend(operation: "dnnl_primitive_attr_create", status: -1) }
        handle = attr
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                      "dnnl_primitive_attr_set_scratchpad_mode")
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}
