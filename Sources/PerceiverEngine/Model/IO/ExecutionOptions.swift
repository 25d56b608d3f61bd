import Foundation

/// The numeric precision a model's matrix products run in (what runs, after `PrecisionSetting` is resolved).
public enum Precision: String, Sendable, CaseIterable {
    /// float32 everywhere: exact parity with `transformers`.
    case f32
    /// bfloat16 weights and activations in matmuls with f32 accumulation; needs native bf16 (`BF16Support`).
    case bf16
}

/// Which oneDNN primitive multiplies an f32 model's linear layers (`ConvolutionLinear`).
public enum F32Linear: String, Sendable, CaseIterable {
    /// The 1x1 convolution where oneDNN's f32 matmul is its generic gemm (below AVX-512), else the matmul.
    case auto
    /// The matmul on the checkpoint's weights in place.
    case matmul
    /// The 1x1 convolution on weights packed at load, wherever oneDNN has a `jit_1x1` kernel for the layer.
    case convolution
}

/// How a loaded model runs: the plan's settings, fixed at load.
public struct ExecutionOptions: Sendable, Equatable {
    /// Matmul precision.
    public var precision: Precision
    /// oneDNN (OpenMP) threads per forward pass.
    public var threads: Int
    /// Most decoder query rows computed at once. The decoder works through larger query sets (a full
    /// optical-flow field, a multimodal video) in chunks of this many rows, so its memory stays bounded;
    /// the results are the same for any value.
    public var decoderChunkRows: Int
    /// `interpolate_pos_encoding` for every request: a `PerceiverForImageClassificationLearned` then takes
    /// `pixel_values` of any H x W (its input spec says so); load refuses it for any other model.
    public var interpolatePositionEncoding = false
    /// What multiplies the linear layers of an f32 model; `.auto` picks the faster kernel for this CPU.
    /// Benchmarks and tests set the others to compare the two on one machine.
    public var f32Linear = F32Linear.auto
    /// Whether an f32 model folds work away where that costs fewer FLOPs, the outputs the same up to the order of
    /// f32 sums: the encoder's single-head cross-attention into its constant queries (`FoldedCrossAttention`), a
    /// text model's keys and values into tables of its token and position embeddings (`TabulatedKeyValues`), a
    /// single-head decoder attention into its keys and values per request (`FoldedDecoderAttention`), and the
    /// decoder's last product into a narrowing map after it (`DecoderTail`). Benchmarks and tests turn it off to
    /// compare on one machine.
    public var foldsCrossAttention = true

    /// Defaults: f32 on every available core, decoder chunks of 4096 query rows.
    public init(precision: Precision = .f32, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                decoderChunkRows: Int = 4096) {
        self.precision = precision
        self.threads = threads
        self.decoderChunkRows = max(1, decoderChunkRows)
    }
}
