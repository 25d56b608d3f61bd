/// The inputs of one forward pass over a batch of B items. Which fields a model takes depends on its
/// architecture (see `PerceiverModel.inputSpecs`); names follow the KServe V2 tensors of the same name.
public struct ModelInputs: Sendable {
    /// `input_ids (B, L)`: token ids, text models.
    public var inputIDs: IndexTensor?
    /// `attention_mask (B, L)`: 1 = attend, 0 = padding, text models.
    public var attentionMask: IndexTensor?
    /// `pixel_values (B, 3, H, W)`: image models.
    public var pixelValues: Tensor?
    /// `output_positions (B, K)`: which of the decoder's output points to compute.
    public var outputPositions: IndexTensor?
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
}

/// The outputs of one forward pass.
public struct ModelOutputs: Sendable {
    /// `logits`: `(B, O, V)` for masked LM, `(B, num_labels)` for classifiers with their default query,
    /// `(B, O, num_labels)` when `output_positions` or `queries` were given.
    public var logits: Tensor
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
