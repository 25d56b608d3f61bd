/// One part of a `multipart/form-data` body: its name, file name and type, and where its content lies in the
/// body (a range, not a copy: `MultipartFormData.content(of:)` gives the bytes).
public struct MultipartPart: Sendable, Equatable {
    /// The `name` parameter of `Content-Disposition` (RFC 7578 section 4.2), quoted-string escapes removed.
    public var name: String
    /// The `filename` parameter, quoted-string escapes removed; nil when absent (it may be empty).
    public var filename: String?
    /// The part's `Content-Type` as sent; nil when absent (RFC 7578 section 4.4 makes that `text/plain`).
    public var contentType: String?
    /// Every header field of the part, in order (RFC 7578 section 4.8 says to ignore all but the three above).
    public var headers: HTTPHeaders
    /// The content's indices in the body the part was parsed from (`Data` indices).
    public var range: Range<Int>

    public init(name: String, filename: String? = nil, contentType: String? = nil, headers: HTTPHeaders = HTTPHeaders(),
                range: Range<Int>) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
        self.range = range
    }
}
