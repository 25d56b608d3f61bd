import Foundation

/// Nested JSON arrays as tensors: shape from the nesting, values row-major.
enum NestedArray {
    /// Values and shape of nested arrays of numbers.
    /// - Throws: `RequestError.badTensor` for ragged nesting, non-numbers or too many values.
    static func parse(name: String, value: Any) throws(RequestError) -> (shape: [Int], values: [Double]) {
        var shape: [Int] = []
        var probe: Any = value
        while let list = probe as? [Any] {
            shape.append(list.count)
            guard let first = list.first else { break }
            probe = first
        }
        var flat: [Double] = []
        try collect(value, depth: 0, shape: shape, into: &flat, name: name)
        return (shape, flat)
    }

    /// A V2 tensor in `datatype` (a spec's preferred type) from parsed values.
    /// - Throws: `RequestError.badTensor` when an integer input holds a fraction.
    static func tensor(name: String, datatype: String, shape: [Int], values: [Double]) throws(RequestError) -> V2Tensor {
        guard datatype.hasPrefix("INT") || datatype.hasPrefix("UINT") else {
            return V2Tensor(name: name, datatype: datatype, shape: shape, data: .floats(values.map { Float($0) }))
        }
        var integers: [Int] = []
        integers.reserveCapacity(values.count)
        for value in values {
            guard value == value.rounded(), abs(value) < 9.0e15 else {
                throw RequestError.badTensor(name: name, reason: "\(datatype) values must be integers, got \(value)")
            }
            integers.append(Int(value))
        }
        return V2Tensor(name: name, datatype: datatype, shape: shape, data: .integers(integers))
    }

    private static func collect(_ value: Any, depth: Int, shape: [Int], into flat: inout [Double],
                                name: String) throws(RequestError) {
        if depth == shape.count {
            guard let number = value as? NSNumber, !isBoolean(number) else {
                throw RequestError.badTensor(name: name, reason: "must be nested arrays of numbers")
            }
            guard flat.count < 1 << 28 else { throw RequestError.badTensor(name: name, reason: "too many values") }
            flat.append(number.doubleValue)
            return
        }
        guard let list = value as? [Any], list.count == shape[depth] else {
            throw RequestError.badTensor(name: name, reason: "ragged nesting: every row at depth \(depth) must have "
                                         + "\(shape[depth]) entries")
        }
        for item in list { try collect(item, depth: depth + 1, shape: shape, into: &flat, name: name) }
    }

    /// Whether JSONSerialization made this number from `true`/`false`.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// `values` with `shape` as nested JSON arrays.
    static func json(_ values: [Float], shape: [Int]) -> String {
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
