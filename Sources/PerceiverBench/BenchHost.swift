import ArgumentParser
import PerceiverEngine

/// What every benchmark report names first: the machine, the oneDNN ISA and the precision that ran.
enum BenchHost {
    /// "cpu AMD EPYC, oneDNN 2.6.3 isa avx2, bf16 unavailable (...); 2 threads, precision f32".
    static func line(threads: Int, precision: PrecisionChoice) -> String {
        "cpu \(DNNLInfo.hostSummary); \(threads) threads, precision \(precision.summary)"
    }

    /// `--precision` resolved on this CPU, or a usage error for an unknown value.
    static func precision(_ value: String) throws -> PrecisionChoice {
        guard let setting = PrecisionSetting(rawValue: value) else {
            throw ValidationError("--precision must be \(PrecisionSetting.choices)")
        }
        return setting.resolve()
    }
}
