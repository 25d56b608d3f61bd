import Foundation

/// The fields of a `transformers` `PerceiverConfig` (`config.json`) that shape the computation.
///
/// Missing keys take `PerceiverConfig()`'s defaults (PERCEIVER.md D.1); unknown keys are ignored, as
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
        guard let parsed = try? JSONSerialization.jsonObject(with: data) else {
            throw ModelLoadError.invalidConfig(key: "(root)", reason: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw ModelLoadError.invalidConfig(key: "(root)", reason: "not a JSON object")
        }
        let reader = ConfigReader(object: object)
        guard let architectures = object["architectures"] as? [String], let first = architectures.first else {
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

/// Typed look-ups into a parsed `config.json` (or `preprocessor_config.json`) that name the key when a value has the
/// wrong type.
struct ConfigReader {
    /// Which file the object came from: it picks the error case, and so the file name in the message.
    enum File { case config, preprocessorConfig }

    let object: [String: Any]
    var file = File.config

    func invalid(_ key: String, _ reason: String) -> ModelLoadError {
        switch file {
        case .config: return .invalidConfig(key: key, reason: reason)
        case .preprocessorConfig: return .invalidPreprocessorConfig(key: key, reason: reason)
        }
    }

    func positive(_ key: String, _ fallback: Int) throws(ModelLoadError) -> Int {
        try optionalPositive(key) ?? fallback
    }

    func optionalPositive(_ key: String) throws(ModelLoadError) -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !isBool(number), let int = Int(exactly: number.doubleValue),
              int > 0, int <= 1 << 31 else {
            throw invalid(key, "expected a positive integer, got \(value)")
        }
        return int
    }

    func positiveList(_ key: String, _ fallback: [Int]) throws(ModelLoadError) -> [Int] {
        guard let value = object[key], !(value is NSNull) else { return fallback }
        guard let list = value as? [NSNumber], !list.isEmpty else {
            throw invalid(key, "expected a list of positive integers")
        }
        var result: [Int] = []
        for item in list {
            guard let int = Int(exactly: item.doubleValue), int > 0, int <= 1 << 31 else {
                throw invalid(key, "expected a list of positive integers")
            }
            result.append(int)
        }
        return result
    }

    func string(_ key: String, _ fallback: String) throws(ModelLoadError) -> String {
        try optionalString(key) ?? fallback
    }

    func optionalString(_ key: String) throws(ModelLoadError) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let string = value as? String else {
            throw invalid(key, "expected a string")
        }
        return string
    }

    func number(_ key: String, _ fallback: Double) throws(ModelLoadError) -> Double {
        guard let value = object[key], !(value is NSNull) else { return fallback }
        guard let number = value as? NSNumber, !isBool(number), number.doubleValue.isFinite else {
            throw invalid(key, "expected a number, got \(value)")
        }
        return number.doubleValue
    }

    func bool(_ key: String, _ fallback: Bool) throws(ModelLoadError) -> Bool {
        guard let value = object[key], !(value is NSNull) else { return fallback }
        guard let number = value as? NSNumber, isBool(number) else {
            throw invalid(key, "expected true or false")
        }
        return number.boolValue
    }

    /// `id2label` as a dense list: keys must be exactly "0" ..< "n".
    func labels() throws(ModelLoadError) -> [String]? {
        guard let value = object["id2label"], !(value is NSNull) else { return nil }
        guard let map = value as? [String: String], !map.isEmpty else {
            throw invalid("id2label", "expected a non-empty object of id -> label")
        }
        var labels: [String] = []
        for id in 0..<map.count {
            guard let label = map[String(id)] else {
                throw invalid("id2label", "ids must be 0..<\(map.count); \(id) is missing")
            }
            labels.append(label)
        }
        return labels
    }

    private func isBool(_ number: NSNumber) -> Bool {
        // JSONSerialization returns true/false as NSNumber with objCType "c" (char); JSON numbers never are.
        String(cString: number.objCType) == "c"
    }
}
