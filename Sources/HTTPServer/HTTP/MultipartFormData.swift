import Foundation

/// A `multipart/form-data` request body (RFC 7578), parsed whole: each part's name, file name, type and where
/// its content lies in the body. What `curl -F frame1=@a.png -F frame2=@b.png` sends.
///
/// Strict, as the request parser is (`HTTPRequestParser`): the framing of RFC 2046 section 5.1.1 with CRLF line
/// ends only, a boundary of 1 to 70 bchars, every part a `form-data` part with a unique non-empty name, part
/// headers as strict as request headers, and `MultipartLimits` on the part count, each part's header section
/// and name lengths. Anything else throws a `MultipartError` that names what was wrong. The parse is one pass
/// over the body whose cost is linear in its size, however many near-delimiters it holds.
public struct MultipartFormData: Sendable {
    /// The longest boundary RFC 2046 section 5.1.1 allows.
    public static let maxBoundaryLength = 70

    /// The body the parts' ranges point into.
    public let body: Data
    /// The `boundary` parameter of the Content-Type, unquoted.
    public let boundary: String
    /// The parts, in body order; names are unique.
    public let parts: [MultipartPart]

    /// Parses `body` as the `multipart/form-data` body that `contentType` (the request's Content-Type value)
    /// announces. A preamble before the first delimiter and an epilogue after the last are ignored (RFC 2046
    /// section 5.1.1); a body with no part (`--boundary--` alone, which browsers send for an empty form) has no
    /// parts.
    /// - Throws: `MultipartError`: for the Content-Type as `boundary(contentType:)` does, then for the first
    ///   thing wrong in the body.
    public init(body: Data, contentType: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) {
        let boundary = try Self.boundary(contentType: contentType)
        let parsed = body.withUnsafeBytes { bytes in
            Result { () throws(MultipartError) in
                try MultipartParser(bytes: bytes, boundary: Array(boundary.utf8), limits: limits).parse()
            }
        }
        let offset = body.startIndex
        self.body = body
        self.boundary = boundary
        self.parts = try parsed.get().map { part in
            var part = part
            part.range = (part.range.lowerBound + offset)..<(part.range.upperBound + offset)
            return part
        }
    }

    /// The part named `name`, or nil.
    public subscript(name: String) -> MultipartPart? {
        parts.first { $0.name == name }
    }

    /// The content of `part`: a slice sharing the body's storage, so its indices are the body's
    /// (`startIndex == part.range.lowerBound`).
    public func content(of part: MultipartPart) -> Data {
        body[part.range]
    }

    /// Whether `contentType`'s media type is `multipart/form-data` (compared case-insensitively), whatever its
    /// parameters.
    public static func isFormData(contentType: String?) -> Bool {
        guard let contentType else { return false }
        return mediaType(contentType).caseInsensitiveEquals("multipart/form-data")
    }

    /// The boundary a `multipart/form-data` Content-Type value announces: its `boundary` parameter, a token or a
    /// quoted string (RFC 2046 section 5.1.1 and RFC 9110 section 8.3.1), 1 to 70 of RFC 2046's bchars, not
    /// ending in a space. Other parameters are ignored.
    /// - Throws: `.notFormData`, `.malformedContentType`, `.missingBoundary`, `.boundaryTooLong` or
    ///   `.invalidBoundary`.
    public static func boundary(contentType: String) throws(MultipartError) -> String {
        guard isFormData(contentType: contentType) else {
            throw .notFormData(mediaType: String(mediaType(contentType)))
        }
        let parameters: HeaderParameters
        do {
            parameters = try HeaderParameters(Array(contentType.trimmingSpaces().utf8)[...])
        } catch {
            throw .malformedContentType(error.reason)
        }
        guard let boundary = parameters.value("boundary") else { throw .missingBoundary }
        guard boundary.count <= maxBoundaryLength else { throw .boundaryTooLong(length: boundary.count) }
        let text = String(decoding: boundary, as: UTF8.self)
        guard let last = boundary.last, last != HTTPSyntax.space, boundary.allSatisfy(isBoundaryByte) else {
            throw .invalidBoundary(text)
        }
        return text
    }

    /// The media type of a Content-Type value: what comes before the first `;`, without surrounding whitespace.
    static func mediaType(_ contentType: String) -> Substring {
        (contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingSpaces()
    }

    /// bchars (RFC 2046 section 5.1.1): DIGIT, ALPHA, `'()+_,-./:=?` and space.
    static func isBoundaryByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "+"), UInt8(ascii: "_"),
             UInt8(ascii: ","), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"),
             UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: " "):
            return true
        default:
            return false
        }
    }
}
