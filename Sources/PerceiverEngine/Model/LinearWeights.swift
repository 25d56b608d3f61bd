/// A PyTorch `nn.Linear`: `weight (out, in)`, `bias (out)`; applied as `y = x W^T + b`.
struct LinearWeights: Sendable {
    let weight: WeightTensor
    let bias: WeightTensor?
    let inFeatures: Int
    let outFeatures: Int

    /// Loads `prefix.weight` and (if `hasBias`) `prefix.bias`.
    init(_ source: WeightSource, _ prefix: String, in inFeatures: Int, out outFeatures: Int,
         hasBias: Bool = true) throws(ModelLoadError) {
        weight = try source.tensor(prefix + ".weight", shape: [outFeatures, inFeatures])
        bias = hasBias ? try source.tensor(prefix + ".bias", shape: [outFeatures]) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
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

    /// `y (rows, out) = epilogue(x (rows, in) W^T + b)` between raw buffers.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, context: ComputeContext,
               epilogue: MatMulEpilogue = .none) throws(InferenceError) {
        let spec = MatMulSpec.linear(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                     hasBias: bias != nil, epilogue: epilogue)
        try context.matmul(spec, src: x, weights: weight.data, bias: bias?.data, dst: y)
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
    /// A linear layer over tensors already loaded, e.g. the MLM head tied to the input embeddings.
    init(weight: WeightTensor, bias: WeightTensor?) {
        self.weight = weight
        self.bias = bias
        self.outFeatures = weight.shape[0]
        self.inFeatures = weight.count / weight.shape[0]
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
