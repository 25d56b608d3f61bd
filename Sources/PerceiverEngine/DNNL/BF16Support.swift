import CDNNL

/// Whether bf16 matmuls run here, decided once per process from what oneDNN actually creates: a probe builds
/// and runs the two bf16 products a bf16 model uses (a linear layer on packed weights, and an attention
/// product of two bf16 activations), then reads which ISA oneDNN dispatches to.
///
/// oneDNN 2.6 refuses bf16 matmuls below AVX-512 (status 3, unimplemented); on plain AVX-512 (`avx512_core`)
/// it creates them but emulates the bf16 dot products, which is slower than f32. Only `avx512_core_bf16`
/// (`vdpbf16ps`) and `avx512_core_amx` (AMX tiles) multiply bf16 natively. `ONEDNN_MAX_CPU_ISA` caps what
/// oneDNN dispatches to, so `ONEDNN_MAX_CPU_ISA=AVX2` shows a newer CPU as an AVX2 one sees it.
public enum BF16Support: Sendable, Equatable {
    /// The CPU multiplies bf16 in hardware; `implementation` is the matmul oneDNN picked (e.g. `brg:avx512_core_amx`).
    case native(implementation: String)
    /// oneDNN creates bf16 matmuls but emulates them on this ISA (slower than f32).
    case emulated(implementation: String, isa: String)
    /// oneDNN cannot create or run a bf16 matmul here; `reason` is its error.
    case unavailable(reason: String)

    /// This process's answer, probed on first use.
    public static let current: BF16Support = probe()

    /// True when bf16 is worth choosing: native bf16 arithmetic.
    public var isNative: Bool {
        if case .native = self { return true }
        return false
    }

    /// True when bf16 matmuls can be created and run at all (natively or emulated).
    public var canRun: Bool {
        if case .unavailable = self { return false }
        return true
    }

    /// One line for logs and `inspect`: "native (brg:avx512_core_amx)", "unavailable: ...".
    public var summary: String {
        switch self {
        case .native(let implementation): return "native (\(implementation))"
        case .emulated(let implementation, let isa): return "emulated (\(implementation) on isa \(isa))"
        case .unavailable(let reason): return "unavailable (oneDNN isa \(DNNLInfo.isa): \(reason))"
        }
    }

    /// Builds and runs the probe products on a fresh engine.
    static func probe() -> BF16Support {
        let implementation: String
        do {
            implementation = try probeProducts()
        } catch {
            return .unavailable(reason: "\(error)")
        }
        let isa = dnnl_get_effective_cpu_isa().rawValue
        // The ISA values nest as bit sets (`avx512_core_amx` contains `avx512_core_bf16`'s bits).
        let bf16Bits = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return isa & bf16Bits == bf16Bits ? .native(implementation: implementation)
            : .emulated(implementation: implementation, isa: DNNLInfo.isa)
    }

    /// Runs a packed-weights linear product and a bf16 x bf16 product; returns the linear one's implementation.
    private static func probeProducts() throws(InferenceError) -> String {
        let engine = try DNNLEngine()
        let (rows, k, n) = (4, 32, 16)
        let weight = [Float](repeating: 0.5, count: n * k)
        let packed = try weight.withUnsafeBufferPointer { (w) throws(InferenceError) in
            try PackedWeights(weight: w.baseAddress!, inFeatures: k, outFeatures: n, engine: engine)
        }
        let linear = MatMulSpec.linear(rows: rows, inFeatures: k, outFeatures: n, hasBias: false, packed: true,
                                       srcType: .bf16)
        var attention = MatMulSpec(src: TensorLayout([1, 1, rows, k]), weights: TensorLayout([1, 1, k, n]),
                                   dst: TensorLayout([1, 1, rows, n]), hasBias: false, scale: 1, epilogue: .none)
        attention.srcType = .bf16
        attention.weightsType = .bf16
        let src = [UInt16](repeating: BFloat16.from(1), count: rows * k)
        let bf16Weights = [UInt16](repeating: BFloat16.from(0.5), count: k * n)
        var dst = [Float](repeating: 0, count: rows * n)
        let primitive = try Primitive.matmul(linear, try linear.descriptors(packed: packed.descriptor),
                                             engine: engine.engine)
        try run(primitive, linear, packed: packed.descriptor, src, UnsafeRawPointer(packed.pointer), &dst, engine)
        try bf16Weights.withUnsafeBufferPointer { (w) throws(InferenceError) in
            let product = try Primitive.matmul(attention, try attention.descriptors(packed: nil), engine: engine.engine)
            try run(product, attention, packed: nil, src, UnsafeRawPointer(w.baseAddress!), &dst, engine)
        }
        // Every product is 32 x 1 x 0.5 = 16, exact in bf16 and f32: anything else means a broken kernel.
        guard dst.allSatisfy({ $0 == 16 }) else {
            throw InferenceError.backend(operation: "bf16 probe product gave \(dst.first ?? .nan), expected 16",
                                         status: -1)
        }
        return primitive.implementation
    }

    private static func run(_ primitive: Primitive, _ spec: MatMulSpec, packed: dnnl_memory_desc_t?, _ src: [UInt16],
                            _ weights: UnsafeRawPointer, _ dst: inout [Float],
                            _ engine: DNNLEngine) throws(InferenceError) {
        let descriptors = try spec.descriptors(packed: packed)
        try src.withUnsafeBufferPointer { (s) throws(InferenceError) in
            try dst.withUnsafeMutableBufferPointer { (d) throws(InferenceError) in
                try engine.execute(primitive, [
                    (DNNL_ARG_SRC, try engine.memory(descriptors[DNNL_ARG_SRC]!, UnsafeRawPointer(s.baseAddress!))),
                    (DNNL_ARG_WEIGHTS, try engine.memory(descriptors[DNNL_ARG_WEIGHTS]!, weights)),
                    (DNNL_ARG_DST, try engine.memory(descriptors[DNNL_ARG_DST]!, UnsafeRawPointer(d.baseAddress!))),
                ])
            }
        }
    }
}
