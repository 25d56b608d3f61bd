import Foundation
import JSONKit

/// `POST /infer` with a JSON body: `{"model": NAME, "text": TEXT, "top_k": K}`,
/// `{"model": NAME, "inputs": {NAME: nested arrays, ...}, "top_k": K}`, or
/// `{"model": NAME, "latents_id": ID, "inputs": {"output_positions": ...}}` (the inputs optional).
extension TaskRequest {
    /// The fields a JSON body may have; any other is refused, so that a misspelt `"topk"` is not silently
    /// ignored.
    static let jsonFields = ["model", "text", "inputs", "top_k", "latents_id"]

    /// What a JSON body should look like, for error messages.
    private static let usage = "expected a JSON object like {\"model\":\"NAME\",\"text\":\"...\"}"

    /// - Throws: `RequestError.malformedBody` naming the field that is wrong or unknown.
    init(json: Data) throws(RequestError) {
        var scanner = JSONScanner(json)
        var text: String?
        var inputs: [(name: String, range: Range<Int>)]?
        topK = 5
        guard try Self.read({ () throws(JSONError) in try scanner.peek() }) == .object else {
            // Invalid JSON is named as such first, as when the body is an object.
            try Self.read { () throws(JSONError) in
                try scanner.skipValue()
                try scanner.finish()
            }
            throw RequestError.malformedBody(Self.usage)
        }
        try Self.read { () throws(JSONError) in try scanner.beginObject() }
        while let key = try Self.read({ () throws(JSONError) in try scanner.nextKey() }) {
            switch key {
            case "model": model = try Self.string(&scanner, field: "model")
            case "text": text = try Self.string(&scanner, field: "text")
            case "inputs": inputs = try Self.inputs(&scanner)
            case "top_k": topK = try Self.topK(&scanner)
            case "latents_id": latentsID = try Self.string(&scanner, field: "latents_id")
            default:
                throw RequestError.malformedBody("unknown field '\(JSONError.excerpt(key, limit: 64))' (fields: "
                                                 + Self.jsonFields.joined(separator: ", ") + ")")
            }
        }
        try Self.read { () throws(JSONError) in try scanner.finish() }
        switch (text, inputs) {
        case (let text?, nil):
            input = .text(text)
        case (nil, let inputs?):
            input = .tensors(body: json, inputs.sorted { $0.name < $1.name })
        case (nil, nil) where latentsID != nil:
            input = .tensors(body: json, [])
        case (nil, nil):
            throw RequestError.malformedBody("give 'text' (a string) or 'inputs' (an object of nested arrays)")
        default:
            throw RequestError.malformedBody("give either 'text' (a string) or 'inputs' (an object), not both")
        }
    }

    /// One step of the read; its error as a 400 that shows what a body should look like.
    private static func read<Value>(_ step: () throws(JSONError) -> Value) throws(RequestError) -> Value {
        do {
            return try step()
        } catch {
            if case .duplicateKey = error.reason { throw RequestError(error) }
            throw RequestError.malformedBody(usage + " (not valid JSON: \(error))")
        }
    }

    private static func string(_ scanner: inout JSONScanner, field: String) throws(RequestError) -> String {
        guard try read({ () throws(JSONError) in try scanner.peek() }) == .string else {
            throw RequestError.malformedBody("'\(field)' must be a string")
        }
        return try read { () throws(JSONError) in try scanner.readString() }
    }

    /// `inputs`: each member's name and the byte range of its value, validated; decoded later, by
    /// `NestedArray`, in the datatype the model's spec gives.
    private static func inputs(_ scanner: inout JSONScanner) throws(RequestError) -> [(name: String, range: Range<Int>)] {
        guard try read({ () throws(JSONError) in try scanner.peek() }) == .object else {
            throw RequestError.malformedBody("'inputs' must be an object of nested arrays")
        }
        return try read { () throws(JSONError) in
            try scanner.beginObject()
            var inputs: [(name: String, range: Range<Int>)] = []
            while let name = try scanner.nextKey() {
                inputs.append((name, try scanner.skipValue()))
            }
            return inputs
        }
    }

    /// `top_k`: an integer literal from 1 to 1000 (not `true`, not `3.0`).
    private static func topK(_ scanner: inout JSONScanner) throws(RequestError) -> Int {
        let message = RequestError.malformedBody("'top_k' must be an integer from 1 to 1000")
        guard try read({ () throws(JSONError) in try scanner.peek() }) == .number else { throw message }
        let number = try read { () throws(JSONError) in try scanner.readNumber() }
        guard let k = number.int64Value, (1...1000).contains(k) else { throw message }
        return Int(k)
    }
}
