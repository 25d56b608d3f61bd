import PerceiverEngine

/// The fields of one `$request_input` as `V2RequestReader` found them, `data` located but not decoded.
struct V2InputFields {
    /// The most dimensions a shape may have; far beyond any model's, it bounds what a shape can cost.
    static let maxRank = 64

    /// `shape` as found.
    enum Shape {
        /// Absent, or not an array.
        case missing
        /// An array holding something other than non-negative integers.
        case invalid
        /// More than `maxRank` dimensions.
        case tooManyDimensions
        case dims([Int])
    }

    /// `name`, when a string.
    var name: String?
    /// `datatype`, when a string.
    var datatype: String?
    var shape = Shape.missing
    var parameters: [String: V2Parameter] = [:]
    /// The byte range of `data` in the header, and its leaf count (the values its nesting holds).
    var data: (range: Range<Int>, leaves: Int)?

    /// The input these fields describe, checked in this order: a name, which `specs` (when not empty) must
    /// take, given once; a known datatype, one `specs` allows; a shape, of the spec's rank and fixed
    /// dimensions, within `V2InferenceRequest.maxElementCount`; then `binary_data_size` against the shape, or
    /// `data` with exactly as many values as the shape holds.
    /// - Throws: `RequestError.malformedBody` without a name, else `.badTensor` naming the input.
    func checked(index: Int, specs: [TensorSpec], seen: inout Set<String>) throws(RequestError)
        -> V2InferenceRequest.ParsedInput {
        guard let name else { throw RequestError.malformedBody("inputs[\(index)] has no 'name'") }
        let spec = specs.isEmpty ? nil : try specs.spec(forInput: name, seen: &seen)
        guard let typeName = datatype else { throw RequestError.badTensor(name: name, reason: "missing 'datatype'") }
        guard let type = V2Datatype(rawValue: typeName) else {
            throw RequestError.badTensor(name: name, reason: "unsupported datatype \(typeName)")
        }
        try spec?.requireDatatype(typeName)
        let dims = try checkedShape(name)
        guard let count = V2InferenceRequest.elementCount(dims) else {
            throw RequestError.badTensor(name: name, reason: "shape \(dims) is too large")
        }
        try spec?.requireShape(dims)
        if let size = parameters["binary_data_size"] {
            guard data == nil else {
                throw RequestError.badTensor(name: name, reason: "has both 'data' and binary_data_size; give one")
            }
            let byteCount = try Self.binaryByteCount(size, elements: count, shape: dims, type, name)
            return .init(name: name, datatype: type, shape: dims, content: .binary(byteCount: byteCount))
        }
        guard let data else { throw RequestError.badTensor(name: name, reason: "missing 'data'") }
        guard type.hasJSONForm else {
            throw RequestError.badTensor(name: name, reason: "\(typeName) data is not supported in JSON; send it as binary")
        }
        guard data.leaves == count else {
            throw RequestError.badTensor(name: name, reason: "shape \(dims) needs \(count) values, data has \(data.leaves)")
        }
        return .init(name: name, datatype: type, shape: dims, content: .json(data.range))
    }

    private func checkedShape(_ name: String) throws(RequestError) -> [Int] {
        switch shape {
        case .missing: throw RequestError.badTensor(name: name, reason: "missing 'shape'")
        case .invalid: throw RequestError.badTensor(name: name, reason: "shape must hold non-negative integers")
        case .tooManyDimensions:
            throw RequestError.badTensor(name: name, reason: "shape has more than \(Self.maxRank) dimensions")
        case .dims(let dims): return dims
        }
    }

    /// `binary_data_size`, checked against the shape before anything is allocated from it: exactly the byte
    /// count of `elements` of a fixed-size datatype, or for BYTES at least their 4-byte length prefixes (the
    /// prefixes themselves are checked as the data is decoded). Neither product can overflow: the element count
    /// is at most 2^31 and an element at most 8 bytes.
    private static func binaryByteCount(_ size: V2Parameter, elements: Int, shape: [Int], _ datatype: V2Datatype,
                                        _ name: String) throws(RequestError) -> Int {
        guard let byteCount = size.intValue, byteCount >= 0 else {
            throw RequestError.badTensor(name: name, reason: "binary_data_size must be a non-negative integer")
        }
        guard let elementSize = datatype.byteSize else {
            let least = elements * datatype.minimumByteSize
            guard byteCount >= least else {
                throw RequestError.badTensor(name: name, reason: "binary_data_size is \(byteCount) bytes, but shape "
                                             + "\(shape) of BYTES needs at least \(least) (a 4-byte length per element)")
            }
            return byteCount
        }
        guard byteCount == elements * elementSize else {
            throw RequestError.badTensor(name: name, reason: "binary_data_size is \(byteCount) bytes, but shape "
                                         + "\(shape) of \(datatype.rawValue) needs \(elements * elementSize)")
        }
        return byteCount
    }
}
