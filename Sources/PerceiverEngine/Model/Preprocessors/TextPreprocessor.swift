/// `PerceiverTextPreprocessor`: token embedding plus absolute position embedding (docs/reference/perceiver.md B.9.1).
struct TextPreprocessor: InputPreprocessor {
    let embeddings: WeightTensor   // (V, C) input_preprocessor.embeddings.weight
    let positions: WeightTensor    // (P, C) input_preprocessor.position_embeddings.weight

    /// The tensor names of `PerceiverTextPreprocessor` in a text checkpoint.
    enum Names {
        static let embeddings = "perceiver.input_preprocessor.embeddings.weight"
        static let positions = "perceiver.input_preprocessor.position_embeddings.weight"
    }

    init(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) {
        embeddings = try source.tensor(Names.embeddings, shape: [config.vocabSize, config.dModel])
        positions = try source.tensor(Names.positions, shape: [config.maxPositionEmbeddings, config.dModel])
    }

    var numChannels: Int { embeddings.shape[1] }
    var vocabularySize: Int { embeddings.shape[0] }
    var maxLength: Int { positions.shape[0] }

    var inputSpecs: [TensorSpec] {
        [TensorSpec(name: "input_ids", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: false),
         TensorSpec(name: "attention_mask", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true)]
    }

    func plan(_ inputs: ModelInputs, batch: Int) -> PassCost.Plan? {
        guard let ids = inputs.inputIDs, ids.shape.count == 2 else { return nil }
        return PassCost.Plan(rows: ids.shape[1], scratchBytes: 0)
    }

    /// `input_ids (B, L)` and optional `attention_mask (B, L)` -> `(B, L, C)`.
    func callAsFunction(_ inputs: ModelInputs, context: ComputeContext) throws(InferenceError) -> PreparedInputs {
        try inputs.requireOnly(["input_ids", "attention_mask", "output_positions", "queries"])
        guard let ids = inputs.inputIDs else { throw InferenceError.missingInput("input_ids") }
        guard ids.shape.count == 2, ids.shape[0] >= 1, ids.shape[1] >= 1, ids.shape[1] <= maxLength else {
            throw InferenceError.badShape(tensor: "input_ids", expected: "(B, L) with 1 <= L <= \(maxLength)",
                                          actual: ids.shape)
        }
        if let bad = ids.values.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw InferenceError.badValue(tensor: "input_ids", reason: "token id \(bad) is outside 0..<\(vocabularySize)")
        }
        var bias: [Float]?
        if let mask = inputs.attentionMask {
            guard mask.shape == ids.shape else {
                throw InferenceError.badShape(tensor: "attention_mask", expected: "\(ids.shape) like input_ids",
                                              actual: mask.shape)
            }
            guard mask.values.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw InferenceError.badValue(tensor: "attention_mask", reason: "values must be 0 or 1")
            }
            bias = keyBias(fromMask: mask)
        }
        let (batch, length, c) = (ids.shape[0], ids.shape[1], numChannels)
        var x = uninitializedFloats(batch * length * c)
        x.withUnsafeMutableBufferPointer { dst in
            for b in 0..<batch {
                for l in 0..<length {
                    let row = dst.baseAddress! + (b * length + l) * c
                    let token = embeddings.data + ids.values[b * length + l] * c
                    let position = positions.data + l * c
                    // embeddings(ids) + position_embeddings(arange(L)), as PerceiverTextPreprocessor.forward.
                    for j in 0..<c { row[j] = token[j] + position[j] }
                }
            }
        }
        return PreparedInputs(batch: batch, rows: length, channels: c, values: x, keyBias: bias, tokens: ids.values)
    }
}

extension TextPreprocessor {
    /// Warm-up inputs of a text model: 16 zero tokens (fewer when the model's length is shorter).
    static func sampleInputs(config: PerceiverConfig) -> ModelInputs {
        let length = min(16, config.maxPositionEmbeddings)
        return ModelInputs(inputIDs: IndexTensor(shape: [1, length], values: [Int](repeating: 0, count: length)))
    }
}
