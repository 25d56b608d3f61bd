import Foundation

/// A KServe V2 inference response (`$inference_response`, SERVING.md 1.5), JSON form.
public struct V2InferenceResponse: Sendable {
    public var modelName: String
    public var modelVersion: String?
    public var id: String?
    public var outputs: [V2Tensor]

    public init(modelName: String, modelVersion: String?, id: String?, outputs: [V2Tensor]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.outputs = outputs
    }

    /// The response as compact JSON. Floats are written in their shortest round-tripping form; a
    /// non-finite value (JSON has none) is written as null.
    public func jsonData() -> Data {
        var out = "{\"model_name\":" + JSONText.quoted(modelName)
        if let modelVersion { out += ",\"model_version\":" + JSONText.quoted(modelVersion) }
        if let id { out += ",\"id\":" + JSONText.quoted(id) }
        out += ",\"outputs\":["
        for (i, tensor) in outputs.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":" + JSONText.quoted(tensor.name) + ",\"datatype\":" + JSONText.quoted(tensor.datatype)
            out += ",\"shape\":[" + tensor.shape.map(String.init).joined(separator: ",") + "],\"data\":["
            switch tensor.data {
            case .integers(let values): out += values.map(String.init).joined(separator: ",")
            case .floats(let values): out += values.map(JSONText.number).joined(separator: ",")
            }
            out += "]}"
        }
        out += "]}"
        return Data(out.utf8)
    }
}

/// Small JSON text helpers shared by the encoders.
public enum JSONText {
    /// `value` as a JSON string literal (RFC 8259 section 7 escapes).
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A float as a JSON number, or null when not finite.
    public static func number(_ value: Float) -> String {
        value.isFinite ? value.description : "null"
    }
}
