/// Why a request body is not an acceptable `multipart/form-data` body (RFC 7578, framed as RFC 2046 section
/// 5.1.1 says). `part` is the position of the part at fault, 1 for the first.
public enum MultipartError: Error, Equatable, Sendable {
    /// The `Content-Type` is not `multipart/form-data` (its media type as sent).
    case notFormData(mediaType: String)
    /// The `Content-Type`'s parameters are malformed: the string says how.
    case malformedContentType(String)
    /// The `Content-Type` has no `boundary` parameter.
    case missingBoundary
    /// The boundary is empty, holds a byte outside RFC 2046's bchars, or ends in a space.
    case invalidBoundary(String)
    /// The boundary is longer than RFC 2046's 70 characters (`MultipartFormData.maxBoundaryLength`).
    case boundaryTooLong(length: Int)
    /// No delimiter (`--boundary` at the start of the body or after a CRLF) anywhere in the body.
    case missingOpeningDelimiter
    /// The body ends inside a part: no close delimiter (`--boundary--`) ends the last part.
    case missingClosingDelimiter
    /// A delimiter is followed by something other than optional spaces and tabs, then CRLF (a part follows) or
    /// `--` (the body ends). `part` is the part the delimiter would begin.
    case malformedDelimiter(part: Int)
    /// A line of a delimiter or of a part's header section ends in LF without CR.
    case bareLineFeed(part: Int)
    /// More parts than `MultipartLimits.maxParts`.
    case tooManyParts(limit: Int)
    /// A part's header section is larger than `MultipartLimits.maxHeaderBytes`.
    case partHeadersTooLarge(part: Int, limit: Int)
    /// A part's header section has more lines than `MultipartLimits.maxHeaderLines`.
    case tooManyPartHeaderLines(part: Int, limit: Int)
    /// A header line of a part is malformed (no colon, obs-fold, a name that is not a token, a control byte).
    case malformedPartHeader(part: Int, String)
    /// A part gives `Content-Disposition`, `Content-Type` or `Content-Transfer-Encoding` more than once.
    case repeatedPartHeader(part: Int, name: String)
    /// A part has no `Content-Disposition` (RFC 7578 section 4.2 requires one).
    case missingContentDisposition(part: Int)
    /// A part's disposition type is not `form-data` (the type as sent).
    case notFormDataPart(part: Int, disposition: String)
    /// A part's `Content-Disposition` parameters are malformed: the string says how.
    case malformedDisposition(part: Int, String)
    /// A part's `Content-Disposition` has no `name`, or an empty one.
    case missingName(part: Int)
    /// A part's `name` or `filename` is longer than `MultipartLimits.maxNameBytes`.
    case nameTooLong(part: Int, limit: Int)
    /// A part's `Content-Disposition` uses RFC 2231's `name*` or `filename*`, which RFC 7578 section 4.2 tells
    /// senders not to use; refused rather than ignored, so that no reader of the body sees another file name.
    case extendedParameter(part: Int, name: String)
    /// Two parts have the same name (the name, as decoded).
    case duplicateName(String)
    /// A part's `Content-Transfer-Encoding` is not `binary`, `8bit` or `7bit` (the encoding as sent).
    case unsupportedTransferEncoding(part: Int, encoding: String)

    /// The status a request failing this way is answered with: 415 for another media type, 413 beyond a limit,
    /// 400 for the rest.
    public var status: Int {
        switch self {
        case .notFormData: return 415
        case .tooManyParts, .partHeadersTooLarge, .tooManyPartHeaderLines, .nameTooLong: return 413
        default: return 400
        }
    }
}

extension MultipartError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notFormData(let type): return "Content-Type '\(type)' is not multipart/form-data"
        case .malformedContentType(let why): return "malformed multipart Content-Type: \(why)"
        case .missingBoundary: return "multipart/form-data without a boundary parameter"
        case .invalidBoundary(let boundary):
            return "multipart boundary \(boundary.debugDescription) is not 1 to 70 of RFC 2046's characters"
        case .boundaryTooLong(let length):
            return "multipart boundary of \(length) characters, longer than RFC 2046's 70"
        case .missingOpeningDelimiter: return "multipart body without a boundary delimiter"
        case .missingClosingDelimiter: return "multipart body ends without its closing delimiter"
        case .malformedDelimiter(let part):
            return "multipart delimiter before part \(part) is not followed by CRLF or --"
        case .bareLineFeed(let part): return "multipart part \(part): line ends in LF without CR"
        case .tooManyParts(let limit): return "multipart body with more than \(limit) parts"
        case .partHeadersTooLarge(let part, let limit):
            return "multipart part \(part): header section larger than \(limit) bytes"
        case .tooManyPartHeaderLines(let part, let limit):
            return "multipart part \(part): more than \(limit) header lines"
        case .malformedPartHeader(let part, let why): return "multipart part \(part): malformed header: \(why)"
        case .repeatedPartHeader(let part, let name): return "multipart part \(part): \(name) given twice"
        case .missingContentDisposition(let part): return "multipart part \(part) has no Content-Disposition"
        case .notFormDataPart(let part, let disposition):
            return "multipart part \(part): disposition '\(disposition)' is not form-data"
        case .malformedDisposition(let part, let why):
            return "multipart part \(part): malformed Content-Disposition: \(why)"
        case .missingName(let part): return "multipart part \(part) has no name"
        case .nameTooLong(let part, let limit):
            return "multipart part \(part): name or filename longer than \(limit) bytes"
        case .extendedParameter(let part, let name):
            return "multipart part \(part): \(name) (RFC 2231 encoding) is not supported; send it as a quoted string"
        case .duplicateName(let name): return "multipart body has two parts named \(name.debugDescription)"
        case .unsupportedTransferEncoding(let part, let encoding):
            return "multipart part \(part): Content-Transfer-Encoding '\(encoding)' is not supported "
                + "(binary, 8bit, 7bit)"
        }
    }
}
