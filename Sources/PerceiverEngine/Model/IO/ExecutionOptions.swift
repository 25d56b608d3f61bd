import Foundation

/// The numeric precision a model's matrix products run in (what runs, after `PrecisionSetting` is resolved).
public enum Precision: String, Sendable, CaseIterable {
    /// float32 everywhere: exact parity with `transformers`.
    case f32
    /// bfloat16 weights and activations in matmuls with f32 accumulation; needs native bf16 (`BF16Support`).
    case bf16
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

    /// Defaults: f32 on every available core, decoder chunks of 4096 query rows.
    public init(precision: Precision = .f32, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                decoderChunkRows: Int = 4096) {
        self.precision = precision
        self.threads = threads
        self.decoderChunkRows = max(1, decoderChunkRows)
    }
}
