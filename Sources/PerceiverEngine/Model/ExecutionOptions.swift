import Foundation

/// The numeric precision a model's matrix products run in.
public enum Precision: String, Sendable, CaseIterable {
    /// float32 everywhere: exact parity with `transformers`.
    case f32
    /// bfloat16 weights and activations in matmuls with f32 accumulation (not yet available: issue #6).
    case bf16
}

/// How a loaded model runs: the plan's settings, fixed at load.
public struct ExecutionOptions: Sendable, Equatable {
    /// Matmul precision.
    public var precision: Precision
    /// oneDNN (OpenMP) threads per forward pass.
    public var threads: Int

    /// Defaults: f32 on every available core.
    public init(precision: Precision = .f32, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.precision = precision
        self.threads = threads
    }
}
