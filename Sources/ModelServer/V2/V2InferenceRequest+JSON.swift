import Foundation
import JSONKit
import PerceiverEngine

// The JSON part of a request: the whole body, or the header before binary tensor data (docs/reference/serving.md 1.5,
// 1.8). One pass reads and checks every field (`V2RequestReader`); only then is each input's `data` decoded,
// straight from its bytes into the typed buffer.

extension V2InferenceRequest {
    /// The most elements one tensor may have; sizes are checked against it before anything is allocated.
    static let maxElementCount = 1 << 31

    /// An input as its JSON describes it, checked, before its data is decoded or binary data attached.
    struct ParsedInput {
        var name: String
        var datatype: V2Datatype
        var shape: [Int]
        var content: Content

        enum Content {
            /// JSON `data` at this byte range of the header, validated and counted but not decoded.
            case json(Range<Int>)
            /// `parameters.binary_data_size`, already checked against the shape.
            case binary(byteCount: Int)
        }
    }

    /// Parses and checks the JSON `header` (inputs against `specs`, when given), then decodes each input's
    /// JSON data or takes its bytes from `binary`, in input order.
    init(header: Foundation.Data, binary: Foundation.Data?, specs: [TensorSpec]) throws(RequestError) {
        var reader = V2RequestReader(header: header, specs: specs)
        let document = try reader.read()
        self.init(id: document.id, parameters: document.parameters,
                  inputs: try Self.attach(binary, to: document.inputs, header: header), outputs: document.outputs)
    }

    /// The JSON data of `input` at `range` of `header`, located and counted by the reader, decoded into
    /// floats or exact integers (BOOL takes `true` and `false` as 1 and 0; no other datatype takes booleans), or
    /// for BYTES the strings' UTF-8 bytes.
    static func jsonData(of input: ParsedInput, at range: Range<Int>,
                         in header: Foundation.Data) throws(RequestError) -> V2Tensor.Data {
        if input.datatype == .bytes {
            return .bytes(try V2Tensor.ByteStrings(json: header, range: range, name: input.name))
        }
        var scanner = JSONScanner(header, range: range)
        let count = input.shape.reduce(1, *)
        do {
            if input.datatype.isInteger {
                return .integers(try scanner.readIntegers(maxCount: count, acceptsBooleans: input.datatype == .bool))
            }
            return .floats(try scanner.readFloats(maxCount: count))
        } catch {
            throw V2Tensor.dataError(error, name: input.name, datatype: input.datatype.rawValue)
        }
    }

    /// The product of `shape`, or nil past `maxElementCount` (overflow checked).
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= maxElementCount else { return nil }
            count = product
        }
        return count
    }
}
