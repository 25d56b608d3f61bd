/// The bearer tokens (RFC 6750) a server accepts, kept only as SHA-256 digests.
///
/// A presented token is hashed and compared with every stored digest in constant time (`CRYPTO_memcmp`,
/// no early exit), so response timing reveals neither which bytes of a token matched nor which token did.
/// Hashing first also hides the stored tokens' lengths.
public struct BearerTokenSet: Sendable {
    /// What an `Authorization` header amounts to.
    public enum Outcome: Equatable, Sendable {
        /// A `Bearer` token that is in the set.
        case accepted
        /// No `Authorization` header, or one for another scheme: RFC 6750 section 3.1 answers with a plain
        /// challenge, no error code.
        case missingCredentials
        /// A `Bearer` credential that is malformed, repeated, or not in the set (`error="invalid_token"`).
        case invalidToken
    }

    private let digests: [[UInt8]]

    /// A set of `tokens`; each should satisfy `isWellFormed` (others can never be presented).
    public init(_ tokens: [String]) {
        digests = tokens.compactMap { SHA256.digest($0.utf8) }
    }

    /// Number of distinct usable tokens.
    public var count: Int { Set(digests).count }

    /// Whether `token` is a `b64token` (RFC 6750 section 2.1): `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
    /// "+" / "/" ) *"="`, the only form a `Bearer` credential can take.
    public static func isWellFormed(_ token: some StringProtocol) -> Bool {
        let bytes = Array(token.utf8)
        let body = bytes.prefix { $0 != UInt8(ascii: "=") }
        guard !body.isEmpty, bytes[body.count...].allSatisfy({ $0 == UInt8(ascii: "=") }) else { return false }
        return body.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                return true
            default:
                return false
            }
        }
    }

    /// Checks the `Authorization` field values of a request (RFC 9110 section 11.6.2: the scheme is
    /// case-insensitive, then one or more spaces, then the credential).
    public func verify(authorization values: [String]) -> Outcome {
        check(authorization: values).outcome
    }

    /// The SHA-256 of the token a request presented, as hex, when the set accepts it: a name for "whoever holds
    /// this token" that reveals nothing of the token (what scopes the latents ids a token's requests create).
    public func acceptedDigest(authorization values: [String]) -> String? {
        let (outcome, digest) = check(authorization: values)
        guard outcome == .accepted, let digest else { return nil }
        return SHA256.hex(digest)
    }

    private func check(authorization values: [String]) -> (outcome: Outcome, digest: [UInt8]?) {
        guard let value = values.first else { return (.missingCredentials, nil) }
        guard values.count == 1 else { return (.invalidToken, nil) }
        let trimmed = value.trimmingSpaces()
        guard let space = trimmed.firstIndex(of: " ") else {
            return (trimmed.caseInsensitiveEquals("bearer") ? .invalidToken : .missingCredentials, nil)
        }
        guard trimmed[..<space].caseInsensitiveEquals("bearer") else { return (.missingCredentials, nil) }
        let token = trimmed[space...].trimmingSpaces()
        guard Self.isWellFormed(token), let presented = SHA256.digest(token.utf8) else { return (.invalidToken, nil) }
        var matched = false
        for digest in digests {
            // Every digest is compared: no exit depends on which one matched.
            let equal = SHA256.constantTimeEquals(presented, digest)
            matched = matched || equal
        }
        return matched ? (.accepted, presented) : (.invalidToken, nil)
    }
}
