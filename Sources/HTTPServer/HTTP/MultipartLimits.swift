/// Bounds on a `multipart/form-data` body beyond its size, which the request's body limit already bounds. Each
/// is checked as the parser reaches it, so a body over one costs at most one scan up to that point.
public struct MultipartLimits: Sendable, Equatable {
    /// Most parts (413 beyond).
    public var maxParts: Int
    /// Largest header section of one part: its field lines with their CRLFs, the empty line ending the section
    /// not counted, as `HTTPParserLimits.maxHeaderBytes` counts a request's (413 beyond).
    public var maxHeaderBytes: Int
    /// Most field lines in one part's header section (413 beyond).
    public var maxHeaderLines: Int
    /// Longest `name` and `filename` of a part, in UTF-8 bytes after quoted-string unescaping (413 beyond).
    public var maxNameBytes: Int

    public init(maxParts: Int = 16, maxHeaderBytes: Int = 8 * 1024, maxHeaderLines: Int = 16,
                maxNameBytes: Int = 256) {
        self.maxParts = maxParts
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderLines = maxHeaderLines
        self.maxNameBytes = maxNameBytes
    }
}
