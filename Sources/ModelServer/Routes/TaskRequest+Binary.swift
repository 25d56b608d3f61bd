import Foundation
import ImageCodecs

/// `POST /infer` with a binary body: one float32 tensor named and shaped by the query string.
extension TaskRequest {
    /// Whether a `Content-Type` value announces a raw binary body.
    static func isBinary(_ contentType: String) -> Bool {
        contentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "application/octet-stream"
        } ?? false
    }

    /// Most dimensions a binary tensor may have.
    static let maxRank = 8

    /// `?model=NAME&input=NAME&shape=D0,D1,...[&output_positions=I,...][&top_k=K]` with the tensor's
    /// little-endian float32 values as the body. `output_positions` applies to every batch row.
    /// - Throws: `RequestError.malformedBody` naming the parameter at fault.
    init(binary body: Data, query: String?) throws(RequestError) {
        let parameters = try Self.parameters(query, known: ["model", "input", "shape", "output_positions", "top_k", "format"])
        model = parameters["model"]
        topK = try Self.topK(parameters)
        guard let name = parameters["input"], !name.isEmpty else {
            if let format = ImageFormat(sniffing: body) {
                throw RequestError.malformedBody("a binary body needs ?input=NAME naming the tensor it holds; this one "
                                                 + "looks like an image: send it with Content-Type: \(format.mimeType)")
            }
            throw RequestError.malformedBody("a binary body needs ?input=NAME naming the tensor it holds")
        }
        guard let shapeText = parameters["shape"] else {
            throw RequestError.malformedBody("a binary body needs ?shape=D0,D1,... giving the tensor's shape")
        }
        let shape = try Self.integers(shapeText, parameter: "shape")
        guard (1...Self.maxRank).contains(shape.count), shape.allSatisfy({ $0 >= 0 }) else {
            throw RequestError.malformedBody("'shape' must list 1 to \(Self.maxRank) non-negative dimensions")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= body.count / 4 + 1 else {
                throw RequestError.malformedBody("shape \(shape) needs more float32 values than the \(body.count)-byte body holds")
            }
            count = product
        }
        guard count * 4 == body.count else {
            throw RequestError.malformedBody("shape \(shape) needs \(count * 4) bytes of float32, the body has \(body.count)")
        }
        let values = body.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        var tensors = [V2Tensor(name: name, datatype: "FP32", shape: shape, data: .floats(values))]
        if let text = parameters["output_positions"] {
            let positions = try Self.integers(text, parameter: "output_positions")
            let rows = shape[0]
            guard rows.multipliedReportingOverflow(by: positions.count).partialValue <= 1 << 24,
                  rows <= 1 << 24, positions.count <= 1 << 24 else {
                throw RequestError.malformedBody("'output_positions' for \(rows) rows is too many")
            }
            tensors.append(V2Tensor(name: "output_positions", datatype: "INT64", shape: [rows, positions.count],
                                    data: .integers(Array((0..<rows).map { _ in positions }.joined()))))
        }
        input = .binary(tensors)
    }

    /// The query string's `name=value` pairs (percent-decoded), each name once and from `known`.
    /// - Throws: `RequestError.malformedBody` naming the parameter at fault.
    static func parameters(_ query: String?, known: [String]) throws(RequestError) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            guard parts.count == 2, parameters[parts[0]] == nil else {
                throw RequestError.malformedBody("query parameter '\(parts[0])' must appear once, as name=value")
            }
            parameters[parts[0]] = parts[1]
        }
        if let unknown = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw RequestError.malformedBody("unknown query parameter '\(unknown)' (known: "
                                             + known.joined(separator: ", ") + ")")
        }
        return parameters
    }

    /// `top_k` from the query (default 5).
    static func topK(_ parameters: [String: String]) throws(RequestError) -> Int {
        guard let text = parameters["top_k"] else { return 5 }
        guard let k = Int(text), (1...1000).contains(k) else {
            throw RequestError.malformedBody("'top_k' must be an integer from 1 to 1000")
        }
        return k
    }

    static func integers(_ text: String, parameter: String) throws(RequestError) -> [Int] {
        var values: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Int(part) else {
                throw RequestError.malformedBody("'\(parameter)' must be comma-separated integers, got '\(text)'")
            }
            values.append(value)
        }
        return values
    }
}
