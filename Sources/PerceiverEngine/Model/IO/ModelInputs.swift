/// The inputs of one forward pass over a batch of B items, by their KServe V2 names. Which names a model takes
/// is its `inputSpecs`; a server maps V2 and `/infer` tensors onto them by name and datatype alone, so an
/// architecture with inputs of new names needs nothing here. The named accessors below are the inputs of the
/// architectures implemented so far.
public struct ModelInputs: Sendable {
    /// One input: floats (FP32) or integers (INT64/INT32 and the other integer datatypes).
    public enum Value: Sendable, Equatable {
        case floats(Tensor)
        case integers(IndexTensor)

        /// Its dimensions.
        public var shape: [Int] {
            switch self {
            case .floats(let tensor): return tensor.shape
            case .integers(let tensor): return tensor.shape
            }
        }
    }

    /// Every input given, by name.
    public private(set) var values: [String: Value] = [:]

    /// `interpolate_pos_encoding`: a `PerceiverForImageClassificationLearned` takes `pixel_values` of any
    /// H x W and interpolates its learned position table to it (bicubic, as `transformers`); other models
    /// ignore it. A request option, not a tensor.
    public var interpolatePositionEncoding = false

    /// Inputs with the given tensors; the rest absent.
    public init(inputIDs: IndexTensor? = nil, attentionMask: IndexTensor? = nil, pixelValues: Tensor? = nil,
                outputPositions: IndexTensor? = nil, queries: Tensor? = nil) {
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.pixelValues = pixelValues
        self.outputPositions = outputPositions
        self.queries = queries
    }

    /// The input called `name`, if given; assigning nil removes it.
    public subscript(name: String) -> Value? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The float input `name`, if given as floats.
    public func floats(_ name: String) -> Tensor? {
        if case .floats(let tensor) = values[name] { return tensor }
        return nil
    }

    /// The integer input `name`, if given as integers.
    public func integers(_ name: String) -> IndexTensor? {
        if case .integers(let tensor) = values[name] { return tensor }
        return nil
    }

    /// `input_ids (B, L)`: token ids, text models.
    public var inputIDs: IndexTensor? {
        get { integers("input_ids") }
        set { values["input_ids"] = newValue.map(Value.integers) }
    }
    /// `attention_mask (B, L)`: 1 = attend, 0 = padding, text models.
    public var attentionMask: IndexTensor? {
        get { integers("attention_mask") }
        set { values["attention_mask"] = newValue.map(Value.integers) }
    }
    /// `pixel_values (B, 3, H, W)`: image classifiers.
    public var pixelValues: Tensor? {
        get { floats("pixel_values") }
        set { values["pixel_values"] = newValue.map(Value.floats) }
    }
    /// `inputs (B, 2, 27, H, W)`: optical flow, the 3 x 3 patches of two frames as `transformers` takes them.
    public var flowPatches: Tensor? {
        get { floats("inputs") }
        set { values["inputs"] = newValue.map(Value.floats) }
    }
    /// `frames (B, 2, 3, H, W)`: optical flow, two frames from which the engine builds the patches itself.
    public var frames: Tensor? {
        get { floats("frames") }
        set { values["frames"] = newValue.map(Value.floats) }
    }
    /// `image (B, T, 3, H, W)`: multimodal autoencoding.
    public var image: Tensor? {
        get { floats("image") }
        set { values["image"] = newValue.map(Value.floats) }
    }
    /// `audio (B, S, 1)`: multimodal autoencoding.
    public var audio: Tensor? {
        get { floats("audio") }
        set { values["audio"] = newValue.map(Value.floats) }
    }
    /// `label (B, num_labels)`: multimodal autoencoding.
    public var label: Tensor? {
        get { floats("label") }
        set { values["label"] = newValue.map(Value.floats) }
    }
    /// `output_positions (B, K)`: which of the decoder's output points to compute.
    public var outputPositions: IndexTensor? {
        get { integers("output_positions") }
        set { values["output_positions"] = newValue.map(Value.integers) }
    }
    /// `output_positions_<modality> (B, K)`: which output points of each modality the multimodal decoder computes.
    public var modalityPositions: [Modality: IndexTensor] {
        get {
            var positions: [Modality: IndexTensor] = [:]
            for modality in Modality.allCases { positions[modality] = integers(modality.positionsName) }
            return positions
        }
        set {
            for modality in Modality.allCases { values[modality.positionsName] = newValue[modality].map(Value.integers) }
        }
    }
    /// `queries (B, O, E)`: caller-supplied decoder queries replacing the model's own.
    public var queries: Tensor? {
        get { floats("queries") }
        set { values["queries"] = newValue.map(Value.floats) }
    }

    /// The names of the inputs that are set, sorted, for "this model does not take ..." errors.
    var givenNames: [String] { values.keys.sorted() }

    /// Throws `unexpectedInput` for the first input set (in name order) that is not in `accepted`.
    func requireOnly(_ accepted: Set<String>) throws(InferenceError) {
        if let extra = givenNames.first(where: { !accepted.contains($0) }) {
            throw InferenceError.unexpectedInput(extra)
        }
    }
}

/// The modalities of `PerceiverForMultimodalAutoencoding`, in the sorted order `transformers` concatenates them.
public enum Modality: String, Sendable, CaseIterable, Comparable {
    case audio, image, label

    /// The request tensor that selects this modality's output points.
    public var positionsName: String { "output_positions_" + rawValue }

    public static func < (lhs: Modality, rhs: Modality) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The outputs of one forward pass, by name, in the model's `outputSpecs` order.
public struct ModelOutputs: Sendable, Equatable {
    /// Every output: `logits` for all families but multimodal, which has `audio`, `image` and `label`.
    public var named: [NamedTensor]

    /// Outputs with one tensor named `logits`.
    public init(logits: Tensor) {
        named = [NamedTensor(name: "logits", tensor: logits)]
    }

    public init(named: [NamedTensor]) {
        self.named = named
    }

    /// The output called `name`, if the model has one.
    public subscript(name: String) -> Tensor? {
        named.first { $0.name == name }?.tensor
    }

    /// `logits`: `(B, O, V)` for masked LM, `(B, num_labels)` for classifiers with their default query,
    /// `(B, O, num_labels)` when `output_positions` or `queries` were given, `(B, H, W, 2)` for optical flow.
    /// Only for models whose `outputSpecs` name `logits` (every family but multimodal).
    public var logits: Tensor {
        guard let logits = self["logits"] else { preconditionFailure("these outputs have no 'logits'") }
        return logits
    }
}

/// One named output tensor.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var tensor: Tensor

    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// One input or output as a model declares it (KServe V2 model metadata).
public struct TensorSpec: Sendable, Equatable {
    /// The tensor's name, e.g. `input_ids`.
    public var name: String
    /// KServe V2 datatypes accepted, first preferred: `["INT64", "INT32"]`, `["FP32"]`.
    public var datatypes: [String]
    /// Dimensions, -1 where variable.
    public var shape: [Int]
    /// Whether a request may leave it out.
    public var isOptional: Bool

    public init(name: String, datatypes: [String], shape: [Int], isOptional: Bool) {
        self.name = name
        self.datatypes = datatypes
        self.shape = shape
        self.isOptional = isOptional
    }
}
