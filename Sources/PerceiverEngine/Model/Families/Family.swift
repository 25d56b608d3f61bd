/// One `transformers` architecture: everything the engine knows of it, in one folder under `Families/`. Its
/// type says which `config.json` class it is, which task a server offers for it, how it is built from the
/// checkpoint's tensors (named in its own name table, exactly as `transformers` writes them), what its
/// warm-up inputs are and what `perceiverd inspect` says about it. The encoder (`PerceiverEncoder`), the
/// layers and the decoder machinery are shared; the inputs and outputs a model takes and gives follow from the
/// parts it builds (`FamilyParts`), so a server maps V2 and `/infer` requests onto it by name and datatype.
///
/// Adding an architecture: a folder under `Families/` with one type conforming to this (and any preprocessor
/// or decoder of its own), and its line in `FamilyRegistry.all` (step by step, with the fixtures and what a new
/// decoding scheme touches besides: docs/development/README.md "Adding a model family").
protocol Family: Sendable {
    /// `architectures[0]` in `config.json`, e.g. `PerceiverForMaskedLM`.
    static var className: String { get }
    /// What a server does with it besides tensors in, tensors out.
    static var task: ModelTask { get }
    /// Builds the architecture's own parts from `weights`.
    /// - Throws: `ModelLoadError` for a missing tensor, a wrong shape or an impossible config value.
    static func build(_ weights: WeightSource, config: PerceiverConfig,
                      context: ComputeContext) throws(ModelLoadError) -> FamilyParts
    /// Small valid inputs of batch 1, all zeros, that run every kernel once (warm-up); `specs` are the
    /// model's `inputSpecs`.
    static func sampleInputs(config: PerceiverConfig, specs: [TensorSpec]) -> ModelInputs
    /// How the model takes encoded images, or nil when it takes none (`ImageProcessor.forModel`).
    static func imageSide(config: PerceiverConfig) -> ImageSide?
    /// Lines about its geometry for `perceiverd inspect` (frames, video, audio; none for most).
    static func summary(config: PerceiverConfig) -> [String]
}

extension Family {
    static func imageSide(config: PerceiverConfig) -> ImageSide? { nil }
    static func summary(config: PerceiverConfig) -> [String] { [] }
}

/// The parts a family contributes around the shared encoder.
struct FamilyParts {
    /// Inputs to the encoder's `(B, M, C)`.
    var preprocessor: any InputPreprocessor
    /// The decoder (for the multimodal family, its shared inner decoder is in `multimodal`).
    var decoder: PerceiverDecoder?
    /// The decoder's output to the model's output.
    var postprocessor: any Postprocessor
    /// The per-modality decoder of multimodal autoencoding.
    var multimodal: MultimodalDecoder? = nil
}

/// The image size a model takes: fixed (its position table is `image_size`²), or any.
enum ImageSide: Equatable {
    case fixed(Int)
    case any
}

/// Every family the engine implements, found by `config.json` class name.
enum FamilyRegistry {
    static let all: [any Family.Type] = [
        MaskedLMFamily.self, SequenceClassificationFamily.self, ImageClassificationLearnedFamily.self,
        ImageClassificationFourierFamily.self, ImageClassificationConvProcessingFamily.self, OpticalFlowFamily.self,
        MultimodalAutoencodingFamily.self,
    ]

    static func family(named name: String) -> (any Family.Type)? {
        all.first { $0.className == name }
    }
}
