import Testing
@testable import HTTPServer

@Suite struct BearerTokenSetTests {
    let tokens = BearerTokenSet(["s3cret-token_1", "other/token+2=="])

    @Test(arguments: ["Bearer s3cret-token_1", "bearer s3cret-token_1", "BEARER   other/token+2==",
                      "  Bearer s3cret-token_1  "])
    func acceptsAConfiguredToken(header: String) {
        #expect(tokens.verify(authorization: [header]) == .accepted)
    }

    @Test(arguments: [
        ["Bearer s3cret-token_2"], ["Bearer s3cret-token_"], ["Bearer s3cret-token_1x"], ["Bearer "], ["Bearer"],
        ["Bearer s3cret token_1"], ["Bearer s3cret-token_1", "Bearer s3cret-token_1"], ["Bearer =abc"],
        ["Bearer other/token+2=== "], ["Bearer other/token+2"],
    ])
    func refusesAnyOtherBearerCredential(values: [String]) {
        #expect(tokens.verify(authorization: values) == .invalidToken)
    }

    @Test(arguments: [[], ["Basic dXNlcjpwYXNz"], ["Token s3cret-token_1"]])
    func treatsOtherSchemesAsNoCredentials(values: [String]) {
        #expect(tokens.verify(authorization: values) == .missingCredentials)
    }

    @Test func tokenSyntaxIsRFC6750B64Token() {
        for good in ["a", "A-z.0_9~+/", "abc==", "x="] { #expect(BearerTokenSet.isWellFormed(good), "\(good)") }
        for bad in ["", "=", "a b", "a=b", "tök", "a\u{0}", "a,b", "a\"b"] {
            #expect(!BearerTokenSet.isWellFormed(bad), "\(bad)")
        }
    }

    @Test func digestsAreSHA256() throws {
        // FIPS 180-2 test vector for "abc".
        let digest = try #require(SHA256.digest("abc".utf8))
        #expect(digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.constantTimeEquals(digest, digest))
        #expect(!SHA256.constantTimeEquals(digest, digest.dropLast() + [digest[31] ^ 1]))
        #expect(!SHA256.constantTimeEquals(digest, []))
    }

    @Test func duplicateTokensCountOnce() {
        #expect(BearerTokenSet(["a", "a", "b"]).count == 2)
    }
}
