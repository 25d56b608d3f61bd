import Foundation
import PerceiverEngine

/// A KServe V2 inference request (`$inference_request`, docs/reference/serving.md 1.5): a JSON body, a JSON header
/// followed by binary tensor data, or a raw binary body (Triton's binary tensor data extension, 1.8).
///
/// Unknown fields and parameters are ignored, as the protocol allows.
public struct V2InferenceRequest: Sendable {
    /// `id`, echoed in the response.
    public var id: String?
    /// The request-level `parameters`, unknown ones included (docs/reference/serving.md 1.10).
    public var parameters: [String: V2Parameter]
    /// The inputs, their data decoded from JSON or binary.
    public var inputs: [V2Tensor]
    /// The `outputs` list, or nil for all outputs with default settings.
    public var outputs: [V2RequestedOutput]?
    /// Whether the body was one raw binary tensor (`Inference-Header-Content-Length: 0`): then every
    /// output is returned as binary.
    public var isRawBinary: Bool

    /// A request built in code.
    public init(id: String? = nil, parameters: [String: V2Parameter] = [:], inputs: [V2Tensor],
                outputs: [V2RequestedOutput]? = nil, isRawBinary: Bool = false) {
        self.id = id
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.isRawBinary = isRawBinary
    }

    /// Parses a body that is all JSON.
    /// - Throws: `RequestError.malformedBody` or `.badTensor` naming the tensor.
    public init(json: Foundation.Data) throws(RequestError) {
        try self.init(body: json, inferenceHeaderLength: nil, specs: [])
    }

    /// Parses a request body framed by its `Inference-Header-Content-Length` (docs/reference/serving.md 1.8), which
    /// refers to the uncompressed body:
    /// - nil: the whole body is JSON;
    /// - n > 0: the first n bytes are JSON, the rest the binary data of the inputs that carry
    ///   `parameters.binary_data_size`, in input order;
    /// - 0: the body is the raw bytes of the model's first required input in `specs` (a model's
    ///   `inputSpecs`), batch 1, in its first datatype; its one variable dimension follows from the
    ///   byte count.
    ///
    /// Every size is checked against the shapes before anything is allocated from it.
    /// - Throws: `RequestError.inferenceHeaderOutOfRange`, `.binaryDataLength`, `.malformedBody`, or
    ///   `.badTensor` naming the tensor and what was expected.
    public init(body: Foundation.Data, inferenceHeaderLength: Int?, specs: [TensorSpec]) throws(RequestError) {
        guard let length = inferenceHeaderLength else {
            try self.init(header: body, binary: nil, specs: specs)
            return
        }
        guard length >= 0, length <= body.count else {
            throw RequestError.inferenceHeaderOutOfRange(length: length, bodyLength: body.count)
        }
        if length == 0 {
            try self.init(rawBinary: body, specs: specs)
            return
        }
        let split = body.startIndex + length
        try self.init(header: body[body.startIndex..<split], binary: body[split...], specs: specs)
    }

    /// The value of an `Inference-Header-Content-Length` header, nil when absent. Range is checked by
    /// `init(body:inferenceHeaderLength:specs:)`.
    /// - Throws: `RequestError.badInferenceHeaderLength` when it is not a decimal integer.
    public static func inferenceHeaderLength(_ headerValue: String?) throws(RequestError) -> Int? {
        guard let headerValue else { return nil }
        let trimmed = headerValue.trimmingCharacters(in: .whitespaces)
        guard let length = Int(trimmed) else { throw RequestError.badInferenceHeaderLength(headerValue) }
        return length
    }

    /// Names listed in `outputs`, or nil for all.
    public var requestedOutputs: [String]? { outputs?.map(\.name) }

    /// `parameters.binary_data_output`: whether outputs without their own `binary_data` come back binary.
    public var binaryDataOutput: Bool { parameters["binary_data_output"]?.boolValue ?? false }

    /// The largest `timeout` or `priority` accepted: 2^40 (a timeout of about 12.7 days).
    public static let maxParameterValue = 1 << 40

    /// `parameters.timeout` in microseconds, if given (docs/reference/serving.md 1.10).
    public var timeout: Int? { parameters["timeout"]?.intValue }

    /// `parameters.priority`, if given: 1 is the highest level, 0 the default (docs/reference/serving.md 1.10).
    public var priority: Int? { parameters["priority"]?.intValue }

    /// `parameters.latents_id`, if given: decode the latents an earlier response named, with no encoder inputs.
    public var latentsID: String? { parameters["latents_id"]?.stringValue }

    /// Whether output `name` is to be returned as binary: always after a raw binary body, else its
    /// `binary_data` parameter, else the request's `binary_data_output`.
    public func returnsBinary(output name: String) -> Bool {
        if isRawBinary { return true }
        return outputs?.first(where: { $0.name == name })?.binaryData ?? binaryDataOutput
    }
}
