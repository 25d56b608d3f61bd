/// The precision a user asks for (config `precision`, `--precision`): resolved against what the CPU can do
/// into the `Precision` a model runs in.
public enum PrecisionSetting: String, Sendable, CaseIterable {
    /// float32: exact parity with `transformers` (the default).
    case f32
    /// bf16 where the CPU multiplies bf16 natively; elsewhere f32, with a warning.
    case bf16
    /// bf16 where the CPU multiplies bf16 natively, f32 elsewhere, silently.
    case auto

    /// "f32, bf16 or auto", for error messages.
    public static var choices: String { "f32, bf16 or auto" }

    /// What runs for this setting on a machine whose bf16 support is `support`.
    public func resolve(_ support: BF16Support = .current) -> PrecisionChoice {
        switch self {
        case .f32:
            return PrecisionChoice(requested: self, effective: .f32, fallback: nil)
        case .bf16, .auto:
            if support.isNative { return PrecisionChoice(requested: self, effective: .bf16, fallback: nil) }
            let why: String
            switch support {
            case .native: why = ""
            case .emulated(_, let isa): why = "oneDNN only emulates bf16 on isa \(isa), which is slower than f32"
            case .unavailable: why = "this CPU has no native bf16 matmul: bf16 \(support.summary)"
            }
            return PrecisionChoice(requested: self, effective: .f32, fallback: self == .bf16 ? why : nil)
        }
    }
}

/// A resolved precision: what was asked for, what runs, and why they differ when an explicit bf16 fell back.
public struct PrecisionChoice: Sendable, Equatable {
    /// The setting as configured.
    public let requested: PrecisionSetting
    /// What the model's matmuls run in.
    public let effective: Precision
    /// Set when `bf16` was asked for and f32 runs instead: the reason, for one warning at load.
    public let fallback: String?

    init(requested: PrecisionSetting, effective: Precision, fallback: String?) {
        self.requested = requested
        self.effective = effective
        self.fallback = fallback
    }

    /// A choice that asked for exactly what runs (a model loaded with an explicit `Precision`).
    public init(running precision: Precision) {
        self.init(requested: precision == .bf16 ? .bf16 : .f32, effective: precision, fallback: nil)
    }

    /// "bf16", or "f32 (bf16 requested)" / "f32 (auto)" when the two differ in name.
    public var summary: String {
        requested.rawValue == effective.rawValue ? effective.rawValue
            : "\(effective.rawValue) (\(requested.rawValue) requested)"
    }
}
