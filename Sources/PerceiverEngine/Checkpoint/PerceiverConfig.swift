import Foundation

/// The fields of a `transformers` `PerceiverConfig` (`config.json`) that shape the computation.
///
/// Missing keys take `PerceiverConfig()`'s defaults (docs/reference/perceiver.md D.1); unknown keys are ignored, as
/// `transformers` ignores them, because hub configs carry obsolete ones.
public struct PerceiverConfig: Sendable, Equatable {
    /// `architectures[0]`, e.g. "PerceiverForMaskedLM".
    public var architecture: String
    public var numLatents = 256
    public var dLatents = 1280
    public var dModel = 768
    public var numBlocks = 1
    public var numSelfAttendsPerBlock = 26
    public var numSelfAttentionHeads = 8
    public var numCrossAttentionHeads = 8
    public var qkChannels: Int?
    public var vChannels: Int?
    public var crossAttentionShapeForAttention = "kv"
    public var selfAttentionWideningFactor = 1
    public var crossAttentionWideningFactor = 1
    public var hiddenAct = "gelu"
    public var useQueryResidual = true
    public var vocabSize = 262
    public var maxPositionEmbeddings = 2048
    public var imageSize = 56
    public var trainSize = [368, 496]
    public var numFrames = 16
    public var audioSamplesPerFrame = 1920
    public var samplesPerPatch = 16
    public var outputShape = [1, 16, 224, 224]
    public var outputNumChannels = 512
    /// `_label_trainable_num_channels`: width of the multimodal label query (1024 in every published config).
    public var labelTrainableNumChannels = 1024
    /// Class names by id, from `id2label` (default `LABEL_0`, `LABEL_1` as in `transformers`).
    public var labels: [String] = ["LABEL_0", "LABEL_1"]
    /// The `dtype` (or older `torch_dtype`) recorded by `save_pretrained`, if any.
    public var storedDType: String?

    /// A config with defaults for `architecture`.
    public init(architecture: String) {
        self.architecture = architecture
    }

    /// Number of classes (`len(id2label)`).
    public var numLabels: Int { labels.count }
}

extension PerceiverConfig {
    /// Parses `config.json` bytes.
    /// - Throws: `ModelLoadError.invalidConfig` naming the key at fault.
    public init(json data: Data) throws(ModelLoadError) {
        let reader = try ConfigReader(json: data, file: .config)
        let architectures = reader.object.nonNull("architectures")?.arrayValue ?? []
        let names = architectures.compactMap(\.stringValue)
        guard let first = names.first, names.count == architectures.count else {
            throw ModelLoadError.invalidConfig(key: "architectures", reason: "missing or not a list of class names")
        }
        self.init(architecture: first)
        try readDimensions(reader)
        try readOptions(reader)
        try validate()
    }

    private mutating func readDimensions(_ r: ConfigReader) throws(ModelLoadError) {
        numLatents = try r.positive("num_latents", numLatents)
        dLatents = try r.positive("d_latents", dLatents)
        dModel = try r.positive("d_model", dModel)
        numBlocks = try r.positive("num_blocks", numBlocks)
        numSelfAttendsPerBlock = try r.positive("num_self_attends_per_block", numSelfAttendsPerBlock)
        numSelfAttentionHeads = try r.positive("num_self_attention_heads", numSelfAttentionHeads)
        numCrossAttentionHeads = try r.positive("num_cross_attention_heads", numCrossAttentionHeads)
        qkChannels = try r.optionalPositive("qk_channels")
        vChannels = try r.optionalPositive("v_channels")
        selfAttentionWideningFactor = try r.positive("self_attention_widening_factor", selfAttentionWideningFactor)
        crossAttentionWideningFactor = try r.positive("cross_attention_widening_factor", crossAttentionWideningFactor)
        vocabSize = try r.positive("vocab_size", vocabSize)
        maxPositionEmbeddings = try r.positive("max_position_embeddings", maxPositionEmbeddings)
        imageSize = try r.positive("image_size", imageSize)
        trainSize = try r.positiveList("train_size", trainSize)
        numFrames = try r.positive("num_frames", numFrames)
        audioSamplesPerFrame = try r.positive("audio_samples_per_frame", audioSamplesPerFrame)
        samplesPerPatch = try r.positive("samples_per_patch", samplesPerPatch)
        outputShape = try r.positiveList("output_shape", outputShape)
        outputNumChannels = try r.positive("output_num_channels", outputNumChannels)
        labelTrainableNumChannels = try r.positive("_label_trainable_num_channels", labelTrainableNumChannels)
    }

    private mutating func readOptions(_ r: ConfigReader) throws(ModelLoadError) {
        crossAttentionShapeForAttention = try r.string("cross_attention_shape_for_attention",
                                                       crossAttentionShapeForAttention)
        hiddenAct = try r.string("hidden_act", hiddenAct)
        useQueryResidual = try r.bool("use_query_residual", useQueryResidual)
        // transformers 5 writes "dtype"; 4.x wrote "torch_dtype".
        let dtype = try r.optionalString("dtype")
        let torchDType = try r.optionalString("torch_dtype")
        storedDType = dtype ?? torchDType
        if let labels = try r.labels() {
            self.labels = labels
        } else if let count = try r.optionalPositive("num_labels") {
            labels = (0..<count).map { "LABEL_\($0)" }
        }
    }

    private func validate() throws(ModelLoadError) {
        // HF maps hidden_act through ACT2FN; only "gelu" (exact erf) is used by any Perceiver checkpoint.
        guard hiddenAct == "gelu" else {
            throw ModelLoadError.invalidConfig(key: "hidden_act", reason: "'\(hiddenAct)' is not supported (only \"gelu\")")
        }
        guard crossAttentionShapeForAttention == "kv" || crossAttentionShapeForAttention == "q" else {
            throw ModelLoadError.invalidConfig(key: "cross_attention_shape_for_attention",
                                               reason: "must be \"kv\" or \"q\"")
        }
    }
}
