import Testing
@testable import PerceiverEngine

extension Trait where Self == ConditionTrait {
    /// Runs a test only where oneDNN can create and run bf16 matmuls (natively or emulated: AVX-512 and up);
    /// elsewhere Swift Testing reports it skipped with this reason.
    static var needsBF16Matmuls: Self {
        .enabled(if: BF16Support.current.canRun,
                 Comment(rawValue: "needs bf16 matmuls, which oneDNN cannot run here: bf16 \(BF16Support.current.summary)"))
    }
}
