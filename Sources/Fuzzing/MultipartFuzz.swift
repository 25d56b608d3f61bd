import Foundation
import HTTPServer

/// The `multipart` target: the input's first line (up to the first LF) is the request's Content-Type, the rest
/// its body, through `MultipartFormData` with small limits, so that inputs of a few KiB reach every limit.
///
/// Invariants: parsing is deterministic (the same parts or the same error twice); the body at another `Data`
/// offset gives the same parts, their ranges moved by the offset; accepted parts are within the limits, with
/// unique non-empty names free of control characters, ranges inside the body, in order and apart, each content
/// free of the delimiter and followed by one; what succeeds under the small limits succeeds the same under the
/// defaults; and the parts written out again with the same boundary (`MultipartFuzz+RoundTrip.swift`) parse to
/// the same parts.
enum MultipartFuzz {
    static let limits = MultipartLimits(maxParts: 8, maxHeaderBytes: 256, maxHeaderLines: 8, maxNameBytes: 32)

    /// Where the body sits inside the `Data` of the offset parse.
    static let offset = 3

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = [UInt8](bytes)
        let newline = input.firstIndex(of: 0x0A) ?? input.endIndex
        let contentType = String(decoding: input[..<newline], as: UTF8.self)
        let body = Data(input[min(newline + 1, input.endIndex)...])
        let first = parse(body, contentType, limits)
        Invariant.require(first == parse(body, contentType, limits), "two parses of one body differ")
        let padded = Data(count: offset) + body
        let shifted = parse(padded[offset...], contentType, limits).map { parts in
            parts.map { part in
                var part = part
                part.range = (part.range.lowerBound - offset)..<(part.range.upperBound - offset)
                return part
            }
        }
        Invariant.require(shifted == first, "the body at offset \(offset) gave \(shifted), at 0 \(first)")
        guard case .success(let parts) = first else { return }
        let boundary = (try? MultipartFormData.boundary(contentType: contentType)) ?? ""
        check(parts, body: body, boundary: boundary, limits: limits)
        Invariant.require(parse(body, contentType, MultipartLimits()) == first, "the default limits gave other parts")
        checkRoundTrip(parts, body: body, boundary: boundary)
    }

    static func parse(_ body: Data, _ contentType: String,
                      _ limits: MultipartLimits) -> Result<[MultipartPart], MultipartError> {
        Result { () throws(MultipartError) in
            try MultipartFormData(body: body, contentType: contentType, limits: limits).parts
        }
    }

    /// The invariants of parts accepted from `body` (indices from 0) under `limits`.
    static func check(_ parts: [MultipartPart], body: Data, boundary: String, limits: MultipartLimits) {
        Invariant.require(!boundary.isEmpty && boundary.utf8.count <= 70, "boundary \(boundary.debugDescription)")
        Invariant.require(parts.count <= limits.maxParts, "\(parts.count) parts, limit \(limits.maxParts)")
        Invariant.require(Set(parts.map(\.name)).count == parts.count, "names \(parts.map(\.name)) repeat")
        let delimiter = Data("\r\n--\(boundary)".utf8)
        var previousEnd = -1
        for part in parts {
            for text in [part.name, part.filename ?? ""] {
                Invariant.require(text.utf8.count <= limits.maxNameBytes, "name \(text.debugDescription) too long")
                Invariant.require(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F },
                                  "control character in \(text.debugDescription)")
            }
            Invariant.require(!part.name.isEmpty, "a part without a name")
            Invariant.require(part.headers.fields.count <= limits.maxHeaderLines, "\(part.headers.fields.count) lines")
            let range = part.range
            Invariant.require(range.lowerBound > previousEnd && range.upperBound <= body.count,
                              "part '\(part.name)' at \(range) after \(previousEnd) in \(body.count) bytes")
            Invariant.require(body[range].range(of: delimiter) == nil, "part '\(part.name)' holds the delimiter")
            Invariant.require(body[range.upperBound...].starts(with: delimiter),
                              "part '\(part.name)' is not followed by a delimiter")
            previousEnd = range.upperBound
        }
    }
}
