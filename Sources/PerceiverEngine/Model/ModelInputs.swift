/// The inputs of one forward pass over a batch of B items. Which fields a model takes depends on its
/// architecture (see `PerceiverModel.inputSpecs`); names follow the KServe V2 tensors of the same name.
public struct ModelInputs: Sendable {
    /// `input_ids (B, L)`: token ids, text models.
    public var inputIDs: IndexTensor?
    /// `attention_mask (B, L)`: 1 = attend, 0 = padding, text models.
    public var attentionMask: IndexTensor?
    /// `pixel_values (B, 3, H, W)`: image classifiers.
    public var pixelValues: Tensor?
    /// `inputs (B, 2, 27, H, W)`: optical flow, the 3 x 3 patches of two frames as `transformers` takes them.
    public var flowPatches: Tensor?
    /// `frames (B, 2, 3, H, W)`: optical flow, two frames from which the engine builds the patches itself.
    public var frames: Tensor?
    /// `image (B, T, 3, H, W)`, `audio (B, S, 1)`, `label (B, num_labels)`: multimodal autoencoding.
    public var image: Tensor?
    public var audio: Tensor?
    public var label: Tensor?
    /// `output_positions (B, K)`: which of the decoder's output points to compute.
    public var outputPositions: IndexTensor?
    /// `output_positions_<modality> (B, K)`: which output points of each modality the multimodal decoder computes.
    public var modalityPositions: [Modality: IndexTensor] = [:]
    /// `queries (B, O, E)`: caller-supplied decoder queries replacing the model's own.
    public var queries: Tensor?

    /// Inputs with the given tensors; the rest nil.
    public init(inputIDs: IndexTensor? = nil, attentionMask: IndexTensor? = nil, pixelValues: Tensor? = nil,
                outputPositions: IndexTensor? = nil, queries: Tensor? = nil) {
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.pixelValues = pixelValues
        self.outputPositions = outputPositions
        self.queries = queries
    }

    /// The names of the inputs that are set, for "this model does not take ..." errors.
    var givenNames: [String] {
        var names: [String] = []
        if inputIDs != nil { names.append("input_ids") }
        if attentionMask != nil { names.append("attention_mask") }
        if pixelValues != nil { names.append("pixel_values") }
        if flowPatches != nil { names.append("inputs") }
        if frames != nil { names.append("frames") }
        if image != nil { names.append("image") }
        if audio != nil { names.append("audio") }
        if label != nil { names.append("label") }
        if outputPositions != nil { names.append("output_positions") }
        for modality in Modality.allCases where modalityPositions[modality] != nil {
            names.append(modality.positionsName)
        }
        if queries != nil { names.append("queries") }
        return names
    }

    /// Throws `unexpectedInput` for the first input set that is not in `accepted`.
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
