import CDNNL
import Foundation

/// The compute state of one model instance: a oneDNN engine and stream, the primitives created for it
/// (once per shape, then reused), and its thread count.
///
/// Every method must run while holding `lock` (`run(_:)` takes it); the weights it reads are shared and
/// immutable, so several contexts can run one model concurrently.
final class ComputeContext: @unchecked Sendable {
    let threads: Int
    private let dnnl: DNNLEngine
    private let lock = NSLock()
    // Guarded by `lock`.
    private var matmuls: [MatMulSpec: Primitive] = [:]
    private var layerNorms: [[Int]: Primitive] = [:]
    private var softmaxes: [[Int]: Primitive] = [:]

    init(threads: Int) throws(InferenceError) {
        self.threads = max(1, threads)
        dnnl = try DNNLEngine()
    }

    /// Runs `body` with exclusive use of this context, with oneDNN's OpenMP team sized to `threads`.
    func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        // OpenMP's team size is per calling thread; set it on whichever thread runs this batch.
        omp_set_num_threads(Int32(threads))
        return try body()
    }

    /// How many primitives have been created so far (tests use it to prove reuse).
    var primitiveCount: Int { matmuls.count + layerNorms.count + softmaxes.count }

    /// `dst = epilogue(scale * src x weights + bias)` for the shapes in `spec`.
    func matmul(_ spec: MatMulSpec, src: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws(InferenceError) {
        let primitive: Primitive
        if let cached = matmuls[spec] {
            primitive = cached
        } else {
            primitive = try Primitive.matmul(spec, engine: dnnl.engine)
            matmuls[spec] = primitive
        }
        var args: [(Int32, DNNLMemory)] = [
            (DNNL_ARG_SRC, try dnnl.memory(memoryDescriptor(dims: spec.src.dims, strides: spec.src.strides), src)),
            (DNNL_ARG_WEIGHTS, try dnnl.memory(
                memoryDescriptor(dims: spec.weights.dims, strides: spec.weights.strides), weights)),
            (DNNL_ARG_DST, try dnnl.memory(memoryDescriptor(dims: spec.dst.dims, strides: spec.dst.strides), dst)),
        ]
        if spec.hasBias, let bias {
            let dims = Primitive.biasDims(spec)
            args.append((DNNL_ARG_BIAS, try dnnl.memory(
                memoryDescriptor(dims: dims, strides: contiguousStrides(dims)), bias)))
        }
        try dnnl.execute(primitive, args)
    }

    /// Layer norm of `(rows, channels)` from `src` into `dst` (may alias).
    func layerNorm(rows: Int, channels: Int, src: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                   beta: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) throws(InferenceError) {
        let key = [rows, channels]
        let primitive: Primitive
        if let cached = layerNorms[key] {
            primitive = cached
        } else {
            primitive = try Primitive.layerNorm(rows: rows, channels: channels, epsilon: 1e-5, engine: dnnl.engine)
            layerNorms[key] = primitive
        }
        let dataMD = try memoryDescriptor(dims: key, strides: [channels, 1])
        let affineMD = try memoryDescriptor(dims: [channels], strides: [1])
        try dnnl.execute(primitive, [
            (DNNL_ARG_SRC, try dnnl.memory(dataMD, src)),
            (DNNL_ARG_DST, try dnnl.memory(dataMD, dst)),
            (DNNL_ARG_SCALE, try dnnl.memory(affineMD, gamma)),
            (DNNL_ARG_SHIFT, try dnnl.memory(affineMD, beta)),
        ])
    }

    /// Softmax over the last axis of `(rows, columns)`, in place.
    func softmax(rows: Int, columns: Int, data: UnsafeMutablePointer<Float>) throws(InferenceError) {
        let key = [rows, columns]
        let primitive: Primitive
        if let cached = softmaxes[key] {
            primitive = cached
        } else {
            primitive = try Primitive.softmax(rows: rows, columns: columns, engine: dnnl.engine)
            softmaxes[key] = primitive
        }
        let md = try memoryDescriptor(dims: key, strides: [columns, 1])
        let memory = try dnnl.memory(md, data)
        try dnnl.execute(primitive, [(DNNL_ARG_SRC, memory), (DNNL_ARG_DST, memory)])
    }
}
