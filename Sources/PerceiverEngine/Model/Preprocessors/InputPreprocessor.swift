/// Turns a request's raw inputs into the encoder's `(B, M, C)` array (docs/reference/perceiver.md B.9).
///
/// Text, image, optical-flow and multimodal preprocessors conform to it.
protocol InputPreprocessor: Sendable {
    /// C, the width of each input row (the encoder cross-attention's kv dim).
    var numChannels: Int { get }
    /// The inputs this preprocessor reads, in the metadata order.
    var inputSpecs: [TensorSpec] { get }
    /// Validates `inputs` and builds the encoder input.
    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs
    /// M and the intermediates' bytes that preprocessing `inputs` (of `batch` items) will produce, from their
    /// shapes alone, for `PerceiverModel.estimatedPassBytes`; nil when a required input is missing or
    /// malformed (the pass refuses them).
    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan?
    /// The preprocessed rows of `inputs` rebuilt on demand, for a family whose decoder queries are its input
    /// (optical flow); nil for the others.
    func rowSource(_ inputs: ModelInputs) -> (any PreparedRows)?
}

extension InputPreprocessor {
    func rowSource(_ inputs: ModelInputs) -> (any PreparedRows)? { nil }
}
