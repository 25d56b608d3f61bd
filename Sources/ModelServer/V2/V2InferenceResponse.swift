import Foundation

/// A KServe V2 inference response (`$inference_response`, docs/reference/serving.md 1.5), each output as JSON `data` or
/// as binary tensor data after the JSON (Triton's binary tensor data extension, 1.8).
public struct V2InferenceResponse: Sendable {
    public var modelName: String
    public var modelVersion: String?
    public var id: String?
    /// The outputs, in response order.
    public var outputs: [V2Tensor]
    /// Names of the outputs that `encoded()` sends as binary.
    public var binaryOutputs: Set<String>
    /// The response-level `parameters` (`latents_id`), written in key order; none: no `parameters` member.
    public var parameters: [String: String]

    public init(modelName: String, modelVersion: String?, id: String?, outputs: [V2Tensor],
                binaryOutputs: Set<String> = [], parameters: [String: String] = [:]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.outputs = outputs
        self.binaryOutputs = binaryOutputs
        self.parameters = parameters
    }

    /// The response as compact JSON with every output's `data`, whatever `binaryOutputs` says. Floats
    /// are written in their shortest round-tripping form; a non-finite value (JSON has none) is written
    /// as null.
    public func jsonData() -> Data {
        Data(json(binarySizes: [:]).utf8)
    }

    /// The response body and its `Inference-Header-Content-Length`: when any output is in
    /// `binaryOutputs`, the JSON header (those outputs with `parameters.binary_data_size` and no `data`)
    /// followed by their little-endian bytes in output order, and the header's byte count; otherwise
    /// `jsonData()` and nil.
    public func encoded() -> (body: Data, inferenceHeaderLength: Int?) {
        let binary = outputs.filter { binaryOutputs.contains($0.name) }.map { ($0.name, $0.littleEndianBytes()) }
        guard !binary.isEmpty else { return (jsonData(), nil) }
        var body = Data(json(binarySizes: Dictionary(binary.map { ($0.0, $0.1.count) }) { first, _ in first }).utf8)
        let headerLength = body.count
        for (_, bytes) in binary { body.append(bytes) }
        return (body, headerLength)
    }

    /// The JSON text; outputs named in `binarySizes` carry `binary_data_size` instead of `data`.
    private func json(binarySizes: [String: Int]) -> String {
        var out = "{\"model_name\":" + JSONText.quoted(modelName)
        if let modelVersion { out += ",\"model_version\":" + JSONText.quoted(modelVersion) }
        if let id { out += ",\"id\":" + JSONText.quoted(id) }
        if !parameters.isEmpty {
            out += ",\"parameters\":{" + parameters.sorted { $0.key < $1.key }.map {
                JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value)
            }.joined(separator: ",") + "}"
        }
        out += ",\"outputs\":["
        for (i, tensor) in outputs.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":" + JSONText.quoted(tensor.name) + ",\"datatype\":" + JSONText.quoted(tensor.datatype)
            out += ",\"shape\":[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
            if let size = binarySizes[tensor.name] {
                out += ",\"parameters\":{\"binary_data_size\":\(size)}}"
            } else {
                out += ",\"data\":[" + Self.jsonValues(tensor) + "]}"
            }
        }
        out += "]}"
        return out
    }

    /// The tensor's data as comma-separated JSON values: BOOL as true/false, BYTES as strings (bytes that are
    /// not UTF-8 replaced by U+FFFD: a JSON string holds Unicode text; ask for binary to get them as they are).
    private static func jsonValues(_ tensor: V2Tensor) -> String {
        switch tensor.data {
        case .bytes(let elements): return elements.strings.map(JSONText.quoted).joined(separator: ",")
        case .integers(let values) where tensor.datatype == V2Datatype.bool.rawValue:
            return values.map { $0 == 0 ? "false" : "true" }.joined(separator: ",")
        case .integers(let values): return values.map(String.init).joined(separator: ",")
        case .floats(let values):
            // One growing string: this runs for every float of every JSON response.
            var text = ""
            text.reserveCapacity(values.count * 12)
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                text += JSONText.number(value)
            }
            return text
        }
    }
}
