/// Limits and policies of a JSON read.
public struct JSONOptions: Sendable, Equatable {
    /// Most containers open at once; one more is `JSONError.Reason.tooDeep`. Bounds the recursion of
    /// `JSONValue` and the cost of a hostile `[[[[...`.
    public var maxDepth: Int
    /// Whether an object may name a key twice. RFC 8259 section 4 says names SHOULD be unique and that
    /// parsers disagree on the value such an object has (first, last, both, an error), so a filter in
    /// front of a server could validate another object than the server runs: false (the default) makes
    /// a repeated name `JSONError.Reason.duplicateKey`. True keeps every member, in order (for comparing
    /// with parsers that take the last value).
    public var allowsDuplicateKeys: Bool

    public init(maxDepth: Int = 64, allowsDuplicateKeys: Bool = false) {
        self.maxDepth = maxDepth
        self.allowsDuplicateKeys = allowsDuplicateKeys
    }
}
