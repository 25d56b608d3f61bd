/// What the parser has found in the bytes given to it so far.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A request's head is complete; its body (if any) has not necessarily arrived. Comes once per request,
    /// before `.request`, so the connection can answer `100 Continue` or refuse early.
    case head(HTTPRequestHead)
    /// The request is complete, body de-framed.
    case request(HTTPRequest)
}
