import Foundation

/// The V2 JSON path this branch replaced, kept here only to be measured against: `JSONSerialization`, then
/// every number flattened through `NSNumber` (`Sources/ModelServer/V2/V2InferenceRequest+JSON.swift` at
/// commit c263d8d, reduced to what a float input goes through). The model's specs played no part before the
/// engine ran, so a shape that does not fit was only refused after all of this.
enum FoundationV2Parser {
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// The float values of the request's first input, and its shape.
    static func parse(_ body: Data) throws -> (values: [Float], shape: [Int]) {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Refusal(description: "not valid JSON, or not an object")
        }
        guard let list = object["inputs"] as? [Any], let input = list.first as? [String: Any],
              input["name"] is String, input["datatype"] is String,
              let rawShape = input["shape"] as? [Any], let data = input["data"] else {
            throw Refusal(description: "not a V2 request")
        }
        var count = 1
        var shape: [Int] = []
        for dim in rawShape {
            guard let number = dim as? NSNumber else { throw Refusal(description: "shape must hold integers") }
            shape.append(number.intValue)
            let (product, overflow) = count.multipliedReportingOverflow(by: number.intValue)
            guard !overflow, product <= 1 << 31 else { throw Refusal(description: "shape is too large") }
            count = product
        }
        var flat: [NSNumber] = []
        flat.reserveCapacity(min(count, 1 << 20))
        try flatten(data, into: &flat, limit: count)
        guard flat.count == count else {
            throw Refusal(description: "shape needs \(count) values, data has \(flat.count)")
        }
        return (flat.map { $0.floatValue }, shape)
    }

    private static func flatten(_ value: Any, into flat: inout [NSNumber], limit: Int) throws {
        if let number = value as? NSNumber {
            guard flat.count < limit else { throw Refusal(description: "data has more values than the shape allows") }
            flat.append(number)
        } else if let list = value as? [Any] {
            for item in list { try flatten(item, into: &flat, limit: limit) }
        } else {
            throw Refusal(description: "data must hold numbers")
        }
    }
}
