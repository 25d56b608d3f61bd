import CDNNL
import Foundation
import Synchronization

/// The compute state of one model instance: a oneDNN engine and stream, the primitives created for it
/// (once per shape and thread count, then reused), and its default thread count.
///
/// Every method must run while holding `lock` (`run(_:)` takes it); the weights it reads are shared and
/// immutable, so several contexts can run one model concurrently.
final class ComputeContext: @unchecked Sendable {
    /// The team size of a pass that `run(threads:_:)` is not given one.
    let threads: Int
    /// What the model's matmuls run in: with `.bf16`, linear layers use `PackedWeights` and attention bf16
    /// operands, always accumulating in f32.
    let precision: Precision
    /// Set when this context packs an f32 model's linear weights for the 1x1 convolution (`ConvolutionLinear`).
    let convolutionLinear: Bool
    private let dnnl: DNNLEngine
    private let lock = NSLock()
    // Guarded by `lock`: each primitive with the memory descriptors of its arguments, built once per shape
    // and team size and kept while it is among the `cacheCapacity` most recently used of its kind.
    private var matmuls: [TeamKeyed<MatMulSpec>: CachedPrimitive] = [:]
    private var softmaxes: [TeamKeyed<[Int]>: CachedPrimitive] = [:]
    private var conversions: [TeamKeyed<Int>: CachedPrimitive] = [:]
    private var clock = 0
    /// Guarded by `lock`: the OpenMP team size of the primitives running now (`run(threads:_:)`).
    private(set) var passThreads: Int
    /// Guarded by `lock`: asked before each primitive of the running pass for its team size (`run(threads:_:)`).
    private var teamSize: ThreadBudget?
    /// Guarded by `lock`: where `bf16(_:count:)` converts a matmul's f32 operand; grows to the largest seen.
    private var scratch = UnsafeMutablePointer<UInt16>.allocate(capacity: 0)
    private var scratchCapacity = 0
    /// Set by `abort()` from any thread: every later primitive throws `.aborted` instead of running.
    private let isAborted = Atomic<Bool>(false)
    /// Most primitives kept per kind. Batches of mixed lengths create new shapes; each primitive holds its
    /// own scratchpad, so the cache must not grow with every shape a server ever sees.
    let cacheCapacity: Int
    /// Most scratchpad bytes the cached primitives hold together; beyond it the least recently used of the
    /// kind being added are dropped (a cache bounded only in entries held whatever large shapes had passed).
    let maxScratchpadBytes: Int
    /// Guarded by `lock`: scratchpad bytes of every cached primitive.
    private(set) var scratchpadBytes = 0
    /// Guarded by `lock`: per `[K, N]` of the layers packed so far, whether their convolution is `jit_1x1`
    /// (`pack`): a model has a handful of layer shapes and hundreds of layers.
    private var convolutionKernels: [[Int]: Bool] = [:]
    /// Guarded by `lock`: per-primitive times while profiling (`startProfiling()`), else nil.
    private var profile: OpProfile?

    /// A cache key: a primitive's shape and the team size it was created under. oneDNN's CPU primitives read
    /// the thread count when they are created (its own primitive cache keys on it: `impl_nthr_` in
    /// oneDNN's src/common/primitive_hashing.hpp), so one created for 1 thread runs on 1 even in a team of 2.
    private struct TeamKeyed<Shape: Hashable>: Hashable {
        let shape: Shape
        let threads: Int
    }

    /// A primitive and, per execution argument, the descriptor its memory is wrapped with.
    private struct CachedPrimitive {
        let primitive: Primitive
        let descriptors: [Int32: dnnl_memory_desc_t]
        var lastUse = 0
    }

    init(threads: Int, precision: Precision = .f32, f32Linear: F32Linear = .auto, cacheCapacity: Int = 96,
         maxScratchpadBytes: Int = 256 << 20) throws(InferenceError) {
        self.threads = max(1, threads)
        passThreads = self.threads
        self.precision = precision
        convolutionLinear = precision == .f32
            && (f32Linear == .convolution || (f32Linear == .auto && ConvolutionLinear.isPreferred))
        self.cacheCapacity = max(1, cacheCapacity)
        self.maxScratchpadBytes = max(0, maxScratchpadBytes)
        dnnl = try DNNLEngine()
    }

    deinit { scratch.deallocate() }

    /// `count` floats converted to bf16 in this context's scratch buffer, valid until the next call: one
    /// matmul operand at a time. A oneDNN reorder converts them on all of the context's threads, rounding to
    /// nearest even as `BFloat16.from` does, except that it flushes f32 subnormals (below 1.2e-38) to zero.
    func bf16(_ src: UnsafePointer<Float>, count: Int) throws(InferenceError) -> UnsafePointer<UInt16> {
        if count > scratchCapacity {
            scratch.deallocate()
            scratch = .allocate(capacity: count)
            scratchCapacity = count
        }
        let cached = try cachedPrimitive(&conversions, count) { () throws(InferenceError) in
            let from = try memoryDescriptor(dims: [count], strides: [1])
            let to = try memoryDescriptor(dims: [count], strides: [1], type: dnnl_bf16)
            return CachedPrimitive(primitive: try Primitive(reorderFrom: from, to: to, engine: dnnl.engine),
                                   descriptors: [DNNL_ARG_FROM: from, DNNL_ARG_TO: to])
        }
        try execute(cached, [DNNL_ARG_FROM: UnsafeRawPointer(src), DNNL_ARG_TO: UnsafeRawPointer(scratch)],
                    kind: "reorder f32->bf16", shape: "\(count)")
        return UnsafePointer(scratch)
    }

    /// Whether linear layers loaded for this context are packed (`pack`): bf16, or f32 for the convolution.
    var packsWeights: Bool { precision == .bf16 || convolutionLinear }

    /// PyTorch's `weight (N, K)` packed at load (holding the context) for what multiplies it here: the bf16
    /// matmul, or the 1x1 convolution of the f32 path. Nil when the layer stays an f32 matmul on its original
    /// weights: no packing here, or oneDNN would run this layer's convolution on anything but its `jit_1x1`
    /// kernel (checked at 256 rows and at 1).
    func pack(_ weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int) throws(InferenceError)
        -> PackedWeights? {
        try run { () throws(InferenceError) -> PackedWeights? in
            if precision == .bf16 {
                return try PackedWeights(weight: weight, inFeatures: inFeatures, outFeatures: outFeatures, engine: dnnl)
            }
            guard convolutionLinear else { return nil }
            let shape = [inFeatures, outFeatures]
            if convolutionKernels[shape] == nil {
                var direct = true
                for rows in [256, 1] where direct {
                    let implementation = try ConvolutionLinear.implementation(
                        rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, engine: dnnl)
                    direct = implementation.hasPrefix("jit_1x1")
                }
                convolutionKernels[shape] = direct
            }
            guard convolutionKernels[shape] == true else { return nil }
            return try PackedWeights(weight: weight, inFeatures: inFeatures, outFeatures: outFeatures,
                                     layout: .f32Convolution, engine: dnnl)
        }
    }

    /// Runs `body` with exclusive use of this context, with oneDNN's OpenMP team sized to `threads` (at least
    /// 1), or to the context's `threads` when nil; with a `budget`, each primitive runs on the team size it
    /// returns just before that primitive.
    func run<T, E: Error>(threads team: Int? = nil, budget: ThreadBudget? = nil,
                          _ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer {
            teamSize = nil
            lock.unlock()
        }
        teamSize = budget
        passThreads = max(1, team ?? threads)
        // OpenMP's team size is per calling thread; set it on whichever thread runs this batch.
        omp_set_num_threads(Int32(passThreads))
        return try body()
    }

    /// Resizes the OpenMP team to what the pass's budget says now; before every primitive.
    private func followBudget() {
        guard let teamSize else { return }
        let team = max(1, teamSize.threadsForNextPrimitive())
        guard team != passThreads else { return }
        passThreads = team
        omp_set_num_threads(Int32(team))
    }

    /// Makes the pass running on this context (and every later one) stop at its next primitive with
    /// `InferenceError.aborted`; callable from any thread. For shutdown: a oneDNN primitive cannot be
    /// interrupted, but a pass is hundreds of them, so the worker is free within one primitive's time.
    func abort() {
        isAborted.store(true, ordering: .relaxed)
    }

    /// How many primitives have been created so far (tests use it to prove reuse).
    var primitiveCount: Int { matmuls.count + softmaxes.count + conversions.count }

    /// Guarded by `lock`: set during a warm-up pass (`ModelInstance.warmUp`): a stack of layers of one shape
    /// runs its first layer only, which creates every primitive the others would use.
    var warmsUp = false

    /// Matmul FLOPs run so far (`MatMulSpec.flops`): the benchmark's achieved GFLOP/s.
    private(set) var matmulFLOPs = 0
    /// Matmul FLOPs of the model's arithmetic as `transformers` computes it that a fold at load removed from the
    /// passes so far (`FoldedCrossAttention`, `TabulatedKeyValues`, `FoldedDecoderAttention`, `DecoderTail`):
    /// `matmulFLOPs + foldedFLOPs` is what the unfolded passes run.
    private(set) var foldedFLOPs = 0

    /// Counts `flops` the pass did not run because of a fold (negative where the fold costs more).
    func countFolded(_ flops: Int) {
        foldedFLOPs += flops
    }

    /// `dst = epilogue(scale * src x weights + bias)` for the shapes and element types in `spec`; `packed`
    /// is the weights' blocked descriptor when `spec.packedWeights` is set.
    func matmul(_ spec: MatMulSpec, src: UnsafeRawPointer, weights: UnsafeRawPointer, packed: dnnl_memory_desc_t?,
                bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws(InferenceError) {
        precondition(spec.packedWeights == (packed != nil), "matmul: packed weights need their descriptor")
        let cached = try cachedPrimitive(&matmuls, spec) { () throws(InferenceError) in
            let descriptors = try spec.descriptors(packed: packed)
            let primitive = spec.viaConvolution ? try Primitive.convolution(spec, descriptors, engine: dnnl.engine)
                : try Primitive.matmul(spec, descriptors, engine: dnnl.engine)
            return CachedPrimitive(primitive: primitive, descriptors: descriptors)
        }
        var pointers: [Int32: UnsafeRawPointer] = [DNNL_ARG_SRC: src, DNNL_ARG_WEIGHTS: weights,
                                                   DNNL_ARG_DST: UnsafeRawPointer(dst)]
        if spec.hasBias, let bias { pointers[DNNL_ARG_BIAS] = UnsafeRawPointer(bias) }
        try execute(cached, pointers, kind: spec.viaConvolution ? "conv1x1" : "matmul", shape: spec.profileShape,
                    flops: spec.flops)
        matmulFLOPs += spec.flops
    }

    /// An f32 matmul between raw buffers.
    func matmul(_ spec: MatMulSpec, src: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws(InferenceError) {
        try matmul(spec, src: UnsafeRawPointer(src), weights: UnsafeRawPointer(weights), packed: nil, bias: bias,
                   dst: dst)
    }

    /// `matmul` over Swift arrays: `src` and `dst` are row-major buffers of the spec's shapes.
    func matmul(_ spec: MatMulSpec, src: [Float], weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                dst: inout [Float]) throws(InferenceError) {
        try src.withUnsafeBufferPointer { (s) throws(InferenceError) in
            try dst.withUnsafeMutableBufferPointer { (d) throws(InferenceError) in
                try matmul(spec, src: s.baseAddress!, weights: weights, bias: bias, dst: d.baseAddress!)
            }
        }
    }

    /// One of the engine's own kernels, run on this thread, timed as a primitive is while profiling.
    func kernel(kind: String, shape: @autoclosure () -> String, _ body: () -> Void) throws(InferenceError) {
        try timed(kind: kind, shape: shape(), body)
    }

    /// Layer norm of `(rows, channels)` from `src` into `dst` (may alias): `LayerNormKernel` on this thread.
    func layerNorm(rows: Int, channels: Int, src: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                   beta: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) throws(InferenceError) {
        try timed(kind: "layer_norm", shape: "\(rows)x\(channels)") {
            LayerNormKernel.apply(rows: rows, channels: channels, src: src, gamma: gamma, beta: beta, dst: dst)
        }
    }

    /// Softmax over the last axis of `(rows, columns)`, in place.
    func softmax(rows: Int, columns: Int, data: UnsafeMutablePointer<Float>) throws(InferenceError) {
        let key = [rows, columns]
        let cached = try cachedPrimitive(&softmaxes, key) { () throws(InferenceError) in
            let md = try memoryDescriptor(dims: key, strides: [columns, 1])
            return CachedPrimitive(primitive: try Primitive.softmax(rows: rows, columns: columns, engine: dnnl.engine),
                                   descriptors: [DNNL_ARG_SRC: md, DNNL_ARG_DST: md])
        }
        try execute(cached, [DNNL_ARG_SRC: UnsafeRawPointer(data), DNNL_ARG_DST: UnsafeRawPointer(data)],
                    kind: "softmax", shape: "\(rows)x\(columns)")
    }

    /// The cached entry for `shape` at the running pass's team size, created by `make` on first use.
    private func cachedPrimitive<Shape: Hashable>(_ cache: inout [TeamKeyed<Shape>: CachedPrimitive], _ shape: Shape,
                                                  _ make: () throws(InferenceError) -> CachedPrimitive)
        throws(InferenceError) -> CachedPrimitive {
        clock += 1
        followBudget()
        let key = TeamKeyed(shape: shape, threads: passThreads)
        // One hash of the key on the hot path (specs hold arrays, so hashing and copying them is not free).
        if let index = cache.index(forKey: key) {
            cache.values[index].lastUse = clock
            return cache.values[index]
        }
        var created = try make()
        created.lastUse = clock
        let added = created.primitive.scratchpadBytes
        while !cache.isEmpty, cache.count >= cacheCapacity || scratchpadBytes + added > maxScratchpadBytes,
              let oldest = cache.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            scratchpadBytes -= cache.removeValue(forKey: oldest)?.primitive.scratchpadBytes ?? 0
        }
        cache[key] = created
        scratchpadBytes += added
        return created
    }

    /// Wraps each argument's pointer with its cached descriptor and runs the primitive (`timed`).
    private func execute(_ cached: CachedPrimitive, _ pointers: [Int32: UnsafeRawPointer], kind: String,
                         shape: @autoclosure () -> String, flops: Int = 0) throws(InferenceError) {
        var args: [(Int32, DNNLMemory)] = []
        for (arg, pointer) in pointers {
            guard let md = cached.descriptors[arg] else { continue }
            args.append((arg, try dnnl.memory(md, pointer)))
        }
        try timed(kind: kind, shape: shape(), flops: flops) { () throws(InferenceError) in
            try dnnl.execute(cached.primitive, args)
        }
    }

    /// Runs one operation (a oneDNN primitive or one of the engine's own kernels) unless the context was
    /// aborted; while profiling, adds its time to the row of `kind` and `shape` (an autoclosure: built only then).
    private func timed(kind: String, shape: @autoclosure () -> String, flops: Int = 0,
                       _ body: () throws(InferenceError) -> Void) throws(InferenceError) {
        if isAborted.load(ordering: .relaxed) { throw InferenceError.aborted }
        guard profile != nil else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        profile?.record(kind: kind, shape: shape(), nanoseconds: Int(DispatchTime.now().uptimeNanoseconds - start),
                        flops: flops)
    }

    /// Starts timing every primitive (from empty); the caller holds `lock`.
    func startProfiling() { profile = OpProfile() }

    /// The times since `startProfiling()`, and stops timing; the caller holds `lock`.
    func stopProfiling() -> OpProfile {
        defer { profile = nil }
        return profile ?? OpProfile()
    }
}
