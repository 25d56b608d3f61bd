/// The `transformers` model class of a loaded model (`config.json` `architectures[0]`), one of
/// `Architecture.all`, and the task a server offers for it.
public struct Architecture: Sendable, Hashable, CustomStringConvertible {
    /// The class name, e.g. `PerceiverForMaskedLM`.
    public let rawValue: String
    let family: any Family.Type

    /// The architecture of that class name, or nil when the engine does not implement it.
    public init?(rawValue: String) {
        guard let family = FamilyRegistry.family(named: rawValue) else { return nil }
        self.rawValue = rawValue
        self.family = family
    }

    /// Every architecture the engine implements.
    public static var all: [Architecture] { FamilyRegistry.all.compactMap { Architecture(rawValue: $0.className) } }

    /// What a server does with it besides tensors in, tensors out.
    public var task: ModelTask { family.task }

    /// Whether the model reads text (`input_ids`).
    public var isText: Bool { task == .fillMask || task == .textClassification }

    /// Whether the model's output is one row of class scores per item.
    public var isClassifier: Bool { task == .textClassification || task == .imageClassification }

    public var description: String { rawValue }

    public static func == (lhs: Architecture, rhs: Architecture) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// What a server can do with a model beyond tensors in and out.
public enum ModelTask: Sendable, Equatable {
    /// Masked language modelling: `/infer` fills `[MASK]` bytes of a text.
    case fillMask
    /// Labels for a text.
    case textClassification
    /// Labels for an image (tensor or PNG/JPEG upload).
    case imageClassification
    /// Dense outputs chosen by queries (optical flow, multimodal autoencoding): tensors only.
    case dense
}
