import Foundation
import JSONKit

// BYTES tensors in JSON (an array of strings, nested as any `data`; docs/reference/serving.md 1.5) and in binary
// (each element a 4-byte little-endian length, then its bytes, no padding; Triton's binary tensor data extension,
// docs/reference/serving.md 1.8).

extension V2Tensor.ByteStrings {
    /// The `count` elements of binary BYTES data, which must fill `bytes` exactly. Each length is checked against
    /// the bytes left before anything is taken from it, and room is reserved only for what `bytes` can hold, so a
    /// small body cannot make a large allocation whatever it declares.
    /// - Throws: `RequestError.badTensor` naming the tensor and the element whose length does not fit, or the
    ///   bytes left over after the last element.
    init(binary bytes: Foundation.Data, count: Int, name: String) throws(RequestError) {
        let decoded: Result<Self, RequestError> = bytes.withUnsafeBytes { raw in
            var elements = Self()
            // At most raw.count / 4 elements fit, whatever `count` says.
            let fitting = Swift.min(count, raw.count / 4)
            elements.reserveCapacity(elements: fitting, bytes: raw.count - 4 * fitting)
            var offset = 0
            for index in 0..<count {
                let left = raw.count - offset
                guard left >= 4 else {
                    return .failure(.badTensor(name: name, reason: "element \(index) of \(count): its 4-byte length is "
                                               + "cut off, \(left) bytes are left of binary_data_size \(raw.count)"))
                }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4
                guard length <= left - 4 else {
                    return .failure(.badTensor(name: name, reason: "element \(index) of \(count) declares \(length) "
                                               + "bytes, but \(left - 4) are left of binary_data_size \(raw.count)"))
                }
                elements.append(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)]))
                offset += length
            }
            guard offset == raw.count else {
                return .failure(.badTensor(name: name, reason: "the \(count) elements end after \(offset) bytes, but "
                                           + "binary_data_size is \(raw.count) (\(raw.count - offset) bytes left over)"))
            }
            return .success(elements)
        }
        self = try decoded.get()
    }

    /// The binary form: each element's length as a little-endian UInt32, then its bytes.
    var binary: Foundation.Data {
        var out = Foundation.Data(capacity: storage.count + 4 * count)
        for element in self {
            // An element is at most a body long, far below 4 GiB (limits.max_body_bytes).
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: element.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: element)
        }
        return out
    }

    /// The strings of JSON `data` at `range` of `json` (validated and counted by the reader), nested in any way,
    /// as their UTF-8 bytes.
    /// - Throws: `RequestError.badTensor` naming the tensor and the first element that is not a string.
    init(json: Foundation.Data, range: Range<Int>, name: String) throws(RequestError) {
        var scanner = JSONScanner(json, range: range)
        var elements = Self()
        try Self.read(&scanner, into: &elements, name: name)
        self = elements
    }

    /// Appends the strings of the value at the cursor: a string, or arrays of them.
    private static func read(_ scanner: inout JSONScanner, into elements: inout Self,
                             name: String) throws(RequestError) {
        let kind = try RequestError.json { () throws(JSONError) in try scanner.peek() }
        switch kind {
        case .string:
            elements.append(try RequestError.json { () throws(JSONError) in try scanner.readString() }.utf8)
        case .array:
            // The reader has validated the value, nesting limit included, so the recursion is bounded.
            try RequestError.json { () throws(JSONError) in try scanner.beginArray() }
            while try RequestError.json({ () throws(JSONError) in try scanner.nextElement() }) {
                try read(&scanner, into: &elements, name: name)
            }
        case .object, .number, .bool, .null:
            throw RequestError.badTensor(name: name, reason: "BYTES data must be strings, but element "
                                         + "\(elements.count) is \(kind.article)")
        }
    }
}
