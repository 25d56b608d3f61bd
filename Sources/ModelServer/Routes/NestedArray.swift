import Foundation
import JSONKit

/// Nested JSON arrays as tensors: shape from the nesting, values row-major.
public enum NestedArray {
    /// The most values one `/infer` tensor may have.
    static let maxValues = 1 << 28

    /// The V2 tensor in `datatype` (a spec's preferred type) of the nested arrays at `range` of `json`,
    /// decoded straight into floats or exact integers: the rank is the number of leading `[`, each
    /// dimension the length of the first array at its depth.
    /// - Throws: `RequestError.badTensor` for ragged nesting, values that are not numbers (booleans and null
    ///   are not), fractions for an integer input, numbers beyond the type's range, or too many values.
    static func tensor(name: String, datatype: String, json: Data, range: Range<Int>) throws(RequestError) -> V2Tensor {
        var scanner = JSONScanner(json, range: range)
        do {
            if V2Datatype(rawValue: datatype)?.isInteger == true {
                let (shape, values) = try scanner.readRectangularIntegers(maxCount: maxValues)
                return V2Tensor(name: name, datatype: datatype, shape: shape, data: .integers(values))
            }
            let (shape, values) = try scanner.readRectangularFloats(maxCount: maxValues)
            return V2Tensor(name: name, datatype: datatype, shape: shape, data: .floats(values))
        } catch {
            throw V2Tensor.dataError(error, name: name, datatype: datatype)
        }
    }

    /// `values` with `shape` as nested JSON arrays.
    public static func json(_ values: [Float], shape: [Int]) -> String {
        var out = ""
        out.reserveCapacity(values.count * 12)
        var index = 0
        func emit(_ depth: Int) {
            if depth == shape.count {
                out += JSONText.number(values[index])
                index += 1
                return
            }
            out += "["
            for i in 0..<shape[depth] {
                if i > 0 { out += "," }
                emit(depth + 1)
            }
            out += "]"
        }
        emit(0)
        return out
    }
}
