import Foundation
import ModelServer

extension V2RequestFuzz {
    /// A response with the inputs as outputs, binary as the request asks, is valid JSON (names and the id are
    /// client text) carrying the same id, names, shapes and values, and its binary section is exactly the
    /// sizes its header states. Skipped for repeated names, which a model's outputs never have.
    static func checkResponseEcho(_ request: V2InferenceRequest) {
        let names = request.inputs.map(\.name)
        guard Set(names).count == names.count else { return }
        let response = V2InferenceResponse(modelName: "fuzz", modelVersion: "1", id: request.id,
                                           outputs: request.inputs,
                                           binaryOutputs: Set(names.filter { request.returnsBinary(output: $0) }))
        let (body, headerLength) = response.encoded()
        let jsonLength = headerLength ?? body.count
        Invariant.require(jsonLength <= body.count, "header length \(jsonLength) beyond a \(body.count)-byte body")
        guard let object = (try? JSONSerialization.jsonObject(with: body.prefix(jsonLength))) as? [String: Any],
              let outputs = object["outputs"] as? [[String: Any]] else {
            return Invariant.require(false, "the echo is not a JSON object with outputs: "
                                     + String(decoding: body.prefix(jsonLength), as: UTF8.self))
        }
        Invariant.require(object["id"] as? String == request.id, "the echo's id is \(object["id"] ?? "none")")
        Invariant.require(outputs.count == request.inputs.count, "the echo has \(outputs.count) outputs")
        var binaryBytes = 0
        for (output, tensor) in zip(outputs, request.inputs) {
            Invariant.require(output["name"] as? String == tensor.name
                              && output["datatype"] as? String == tensor.datatype
                              && (output["shape"] as? [NSNumber])?.map(\.intValue) == tensor.shape,
                              "the echo of \(tensor) is \(output)")
            if let parameters = output["parameters"] as? [String: Any] {
                let size = (parameters["binary_data_size"] as? NSNumber)?.intValue ?? -1
                Invariant.require(size == tensor.littleEndianBytes().count, "the echo of \(tensor) says \(size) bytes")
                binaryBytes += size
            } else {
                checkEchoedData(output["data"], of: tensor)
            }
        }
        Invariant.require(binaryBytes == body.count - jsonLength,
                          "the echo's header states \(binaryBytes) binary bytes, \(body.count - jsonLength) follow")
    }

    /// JSON `data` carrying the tensor's values: BOOL as booleans, integers exactly, finite floats exactly
    /// (shortest round-tripping text), non-finite ones as null, BYTES as strings (invalid UTF-8 replaced).
    static func checkEchoedData(_ data: Any?, of tensor: V2Tensor) {
        guard let values = data as? [Any], values.count == tensor.data.count else {
            return Invariant.require(false, "the echo of \(tensor) has data \(String(describing: data))")
        }
        switch tensor.data {
        case .integers(let expected):
            for (value, integer) in zip(values, expected) {
                let number = value as? NSNumber
                let same = tensor.datatype == "BOOL" ? number?.boolValue == (integer != 0)
                    : number?.int64Value == Int64(integer)
                Invariant.require(same, "the echo of \(tensor.name) wrote \(integer) as \(value)")
            }
        case .floats(let expected):
            for (value, float) in zip(values, expected) {
                let same = float.isFinite ? (value as? NSNumber)?.floatValue == float : value is NSNull
                Invariant.require(same, "the echo of \(tensor.name) wrote \(float) as \(value)")
            }
        case .bytes(let expected):
            for (value, string) in zip(values, expected.strings) {
                Invariant.require(value as? String == string, "the echo of \(tensor.name) wrote \(string) as \(value)")
            }
        }
    }
}
