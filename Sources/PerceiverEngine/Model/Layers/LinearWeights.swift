/// A PyTorch `nn.Linear`: `weight (out, in)`, `bias (out)`; applied as `y = x W^T + b`.
struct LinearWeights: Sendable {
    let weight: WeightTensor
    let bias: WeightTensor?
    let inFeatures: Int
    let outFeatures: Int
    /// The copy packed at load that the layer multiplies with (`ComputeContext.pack`): bf16 in a bf16 model,
    /// f32 for the 1x1 convolution where that is the f32 path; nil when `weight` is multiplied in place.
    let packed: PackedWeights?

    /// Loads `prefix.weight` and (if `hasBias`) `prefix.bias`, packed when the source has a packer (unless
    /// `pack` is false: a layer only used at load stays as loaded); the original's pages are then released, so
    /// one copy stays resident, unless the source retains the layer (`WeightSource.retainedLayers`).
    init(_ source: WeightSource, _ prefix: String, in inFeatures: Int, out outFeatures: Int,
         hasBias: Bool = true, pack: Bool = true) throws(ModelLoadError) {
        weight = try source.tensor(prefix + ".weight", shape: [outFeatures, inFeatures])
        bias = hasBias ? try source.tensor(prefix + ".bias", shape: [outFeatures]) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        packed = try Self.pack(weight, name: prefix + ".weight", packer: pack ? source.packer : nil)
        if packed != nil && !source.retains(prefix) { weight.releaseLoadedPages() }
    }

    /// Frees the loaded pages of a packed layer's original, kept after packing because a fold at load read it
    /// (`WeightSource.retainedLayers`), once nothing reads it any more; nothing for a layer that is not packed.
    func releaseRetainedOriginal() {
        if packed != nil { weight.releaseLoadedPages() }
    }

    /// `weight` packed by `packer`, or nil without one (or when the packer keeps this layer as it is).
    private static func pack(_ weight: WeightTensor, name: String,
                             packer: ComputeContext?) throws(ModelLoadError) -> PackedWeights? {
        guard let packer else { return nil }
        do {
            return try weight.withUnsafeBufferPointer { (w) throws(InferenceError) in
                try packer.pack(w.baseAddress!, inFeatures: weight.count / weight.shape[0], outFeatures: weight.shape[0])
            }
        } catch {
            throw ModelLoadError.precisionUnavailable(precision: packer.precision.rawValue,
                                                      reason: "packing \(name): \(error)")
        }
    }

    /// `x (rows, in)` -> `(rows, out)`, with an optional fused GELU.
    func callAsFunction(_ x: [Float], rows: Int, context: ComputeContext,
                        gelu: Bool = false) throws(InferenceError) -> [Float] {
        var y = uninitializedFloats(rows * outFeatures)
        try apply(x, rows: rows, into: &y, context: context, epilogue: gelu ? .gelu : .none)
        return y
    }

    /// `residual += x W^T + b`, in place: the residual add fused into the matmul.
    func accumulate(_ x: [Float], rows: Int, into residual: inout [Float],
                    context: ComputeContext) throws(InferenceError) {
        try apply(x, rows: rows, into: &residual, context: context, epilogue: .accumulate)
    }

    private func apply(_ x: [Float], rows: Int, into y: inout [Float], context: ComputeContext,
                       epilogue: MatMulEpilogue) throws(InferenceError) {
        precondition(x.count == rows * inFeatures && y.count == rows * outFeatures, "linear: shape mismatch")
        try x.withUnsafeBufferPointer { (src) throws(InferenceError) in
            try y.withUnsafeMutableBufferPointer { (dst) throws(InferenceError) in
                try apply(src.baseAddress!, rows: rows, into: dst.baseAddress!, context: context, epilogue: epilogue)
            }
        }
    }

    /// `y (rows, out) = epilogue(x (rows, in) W^T + b)` between raw buffers; a layer packed for bf16 converts
    /// `x` to bf16 first, one packed for the convolution reads it as it is.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, context: ComputeContext,
               epilogue: MatMulEpilogue = .none) throws(InferenceError) {
        if let packed, packed.layout == .f32Convolution {
            let spec = MatMulSpec.linear(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                         hasBias: bias != nil, epilogue: epilogue, packed: true, convolution: true)
            try context.matmul(spec, src: UnsafeRawPointer(x), weights: UnsafeRawPointer(packed.pointer),
                               packed: packed.descriptor, bias: bias?.data, dst: y)
            return
        }
        if let packed {
            let spec = MatMulSpec.linear(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                         hasBias: bias != nil, epilogue: epilogue, packed: true, srcType: .bf16)
            let src = try context.bf16(x, count: rows * inFeatures)
            try context.matmul(spec, src: UnsafeRawPointer(src), weights: UnsafeRawPointer(packed.pointer),
                               packed: packed.descriptor, bias: bias?.data, dst: y)
            return
        }
        let spec = MatMulSpec.linear(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                     hasBias: bias != nil, epilogue: epilogue)
        try context.matmul(spec, src: x, weights: weight.data, bias: bias?.data, dst: y)
    }
}

extension LinearWeights {
    /// `scale x W (rows, in)` for `x (rows, out)`: the weight as stored, not transposed, as the folds made at
    /// load or per request multiply it (`FoldedCrossAttention`, `FoldedDecoderAttention`, `DecoderTail`). Reads
    /// the loaded original: the layer is not packed, or the source retains it (`WeightSource.retainedLayers`).
    func leftMultiplying(_ x: [Float], rows: Int, scale: Float = 1,
                         context: ComputeContext) throws(InferenceError) -> [Float] {
        precondition(x.count == rows * outFeatures, "leftMultiplying: shape mismatch")
        let spec = MatMulSpec(src: TensorLayout([rows, outFeatures]), weights: TensorLayout([outFeatures, inFeatures]),
                              dst: TensorLayout([rows, inFeatures]), hasBias: false, scale: scale, epilogue: .none)
        var y = uninitializedFloats(rows * inFeatures)
        try weight.withUnsafeBufferPointer { (w) throws(InferenceError) in
            try context.matmul(spec, src: x, weights: w.baseAddress!, bias: nil, dst: &y)
        }
        return y
    }

    /// `shift W^T + b (out)` for one row `shift (in)`, each sum in Double: a constant a fold adds to every row.
    func applied(toConstant shift: UnsafePointer<Float>) -> [Float] {
        (0..<outFeatures).map { o in
            var sum = Double(bias?.data[o] ?? 0)
            for j in 0..<inFeatures { sum += Double(weight.data[o * inFeatures + j]) * Double(shift[j]) }
            return Float(sum)
        }
    }
}

/// A PyTorch `nn.LayerNorm(channels)` (eps 1e-5, affine): `weight`, `bias`.
struct LayerNormWeights: Sendable {
    let gamma: WeightTensor
    let beta: WeightTensor
    let channels: Int

    init(_ source: WeightSource, _ prefix: String, channels: Int) throws(ModelLoadError) {
        gamma = try source.tensor(prefix + ".weight", shape: [channels])
        beta = try source.tensor(prefix + ".bias", shape: [channels])
        self.channels = channels
    }

    /// Normalizes each of `rows` rows of `x (rows, channels)`.
    func callAsFunction(_ x: [Float], rows: Int, context: ComputeContext) throws(InferenceError) -> [Float] {
        precondition(x.count == rows * channels, "layer norm: shape mismatch")
        var y = uninitializedFloats(x.count)
        try x.withUnsafeBufferPointer { (src) throws(InferenceError) in
            try y.withUnsafeMutableBufferPointer { (dst) throws(InferenceError) in
                try context.layerNorm(rows: rows, channels: channels, src: src.baseAddress!,
                                      gamma: gamma.data, beta: beta.data, dst: dst.baseAddress!)
            }
        }
        return y
    }
}

extension LinearWeights {
    /// A linear layer over tensors already loaded, e.g. the MLM head tied to the input embeddings; packed when
    /// `packer` is given (the original stays resident: its owner uses it too).
    init(weight: WeightTensor, bias: WeightTensor?, packer: ComputeContext? = nil) throws(ModelLoadError) {
        self.weight = weight
        self.bias = bias
        self.outFeatures = weight.shape[0]
        self.inFeatures = weight.count / weight.shape[0]
        packed = try Self.pack(weight, name: "tied weight \(weight.shape)", packer: packer)
    }
}

extension LayerNormWeights {
    /// A layer norm over tensors already loaded.
    init(gamma: WeightTensor, beta: WeightTensor) {
        self.gamma = gamma
        self.beta = beta
        self.channels = gamma.count
    }
}
