@testable import ModelServer
import Testing

/// At most `limit` image decodes at once; one more is refused with 503 and runs again once one finishes.
@Suite struct ImageDecodeGateTests {
    @Test func refusesOneMoreThanTheLimitAndAdmitsAgainAfterwards() throws {
        let gate = ImageDecodeGate(limit: 2)
        var refusal: RequestError?
        try gate.run { () throws(RequestError) in
            try gate.run { () throws(RequestError) in
                do throws(RequestError) {
                    try gate.run { () throws(RequestError) in }
                } catch {
                    refusal = error
                }
            }
        }
        let error = try #require(refusal)
        #expect(error.status == 503)
        #expect(error.description.contains("2 images are being decoded already"))
        #expect(try gate.run { () throws(RequestError) in 7 } == 7)
    }

    @Test func aFailingDecodeReleasesItsPlace() {
        let gate = ImageDecodeGate(limit: 1)
        #expect(throws: RequestError.self) { try gate.run { () throws(RequestError) in throw RequestError.canceled } }
        #expect((try? gate.run { () throws(RequestError) in true }) == true)
    }
}
