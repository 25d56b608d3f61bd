import ModelServer
import PerceiverEngine

extension V2RequestFuzz {
    /// Input specs of the model families, as the server's V2 route sees them (`PerceiverModel.inputSpecs`, and
    /// `text` for the text models, `TextInput.specs(of:)`), with small fixed sizes: text, image classifier,
    /// optical flow (no required input), multimodal autoencoding.
    static let specSets: [[TensorSpec]] = [
        [TensorSpec(name: "input_ids", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: false),
         TensorSpec(name: "attention_mask", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true)]
            + decoderSpecs + [TextInput.spec],
        [TensorSpec(name: "pixel_values", datatypes: ["FP32"], shape: [-1, 3, 4, 4], isOptional: false)]
            + decoderSpecs,
        [TensorSpec(name: "inputs", datatypes: ["FP32"], shape: [-1, 2, 27, 2, 2], isOptional: true),
         TensorSpec(name: "frames", datatypes: ["FP32"], shape: [-1, 2, 3, 2, 2], isOptional: true)]
            + decoderSpecs,
        [TensorSpec(name: "audio", datatypes: ["FP32"], shape: [-1, -1, 1], isOptional: false),
         TensorSpec(name: "image", datatypes: ["FP32"], shape: [-1, -1, 3, -1, -1], isOptional: false),
         TensorSpec(name: "label", datatypes: ["FP32"], shape: [-1, 3], isOptional: true)]
            + Modality.allCases.map {
                TensorSpec(name: $0.positionsName, datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true)
            },
    ]

    /// `output_positions` and `queries`, which every family but multimodal takes.
    static let decoderSpecs = [
        TensorSpec(name: "output_positions", datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true),
        TensorSpec(name: "queries", datatypes: ["FP32"], shape: [-1, -1, 8], isOptional: true),
    ]
}
