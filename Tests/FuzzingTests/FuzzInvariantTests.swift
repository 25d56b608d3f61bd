import Foundation
import HTTPParserTestSupport
import HTTPServer
import JSONKit
import ModelServer
import Testing
@testable import Fuzzing
@testable import PerceiverEngine

/// The checks themselves: they trap on a broken invariant (else the fuzzer could not find logic bugs), and the
/// chunked reference decoder reads the grammar as the parser documents it.
@Suite struct FuzzInvariantTests {
    @Test func aBodyOverTheLimitTraps() async {
        await #expect(processExitsWith: .failure) {
            let head = HTTPRequestHead(method: "POST", target: "/", version: .http1_1, headers: HTTPHeaders())
            let body = Data(count: HTTPParserFuzz.limits.maxBodyBytes + 1)
            HTTPParserFuzz.checkBody(HTTPRequest(head: head, body: body), limits: HTTPParserFuzz.limits)
        }
    }

    @Test func aBodyDisagreeingWithContentLengthTraps() async {
        await #expect(processExitsWith: .failure) {
            let head = HTTPRequestHead(method: "POST", target: "/", version: .http1_1,
                                       headers: HTTPHeaders([("Content-Length", "3")]))
            HTTPParserFuzz.checkBody(HTTPRequest(head: head, body: Data("ab".utf8)), limits: HTTPParserFuzz.limits)
        }
    }

    @Test func aParserDisagreeingWithTheChunkedReferenceTraps() async {
        await #expect(processExitsWith: .failure) {
            let head = HTTPRequestHead(method: "POST", target: "/", version: .http1_1,
                                       headers: HTTPHeaders([("Transfer-Encoding", "chunked")]))
            let outcome = ParseOutcome(events: [.head(head), .request(HTTPRequest(head: head, body: Data("x".utf8)))])
            ChunkedFuzz.check(outcome, against: .complete(Array("y".utf8)))
        }
    }

    @Test func aTensorWithTooFewElementsTraps() async {
        await #expect(processExitsWith: .failure) {
            let tensor = V2Tensor(name: "x", datatype: "INT64", shape: [2, 2], data: .integers([1, 2, 3]))
            V2RequestFuzz.checkTensors(V2InferenceRequest(inputs: [tensor]))
        }
    }

    @Test func overlappingSafetensorsEntriesTrap() async {
        await #expect(processExitsWith: .failure) {
            let entries = [TensorEntry(name: "a", dtype: .f32, shape: [2], byteRange: 0..<8),
                           TensorEntry(name: "b", dtype: .f32, shape: [2], byteRange: 4..<12)]
            SafeTensorsHeaderFuzz.check((entries, [:], 16), fileSize: 28, headerLength: 8)
        }
    }

    @Test func aJSONKitValueDifferentFromFoundationsTraps() async {
        await #expect(processExitsWith: .failure) {
            JSONKitFuzz.checkAgainstFoundation(Data("[1]".utf8), .array([.number(try JSONNumber(parsing: "2"))]))
        }
    }

    @Test func aMultipartPartHoldingTheDelimiterTraps() async {
        await #expect(processExitsWith: .failure) {
            let body = Data("x\r\n--b\r\n--b".utf8)
            MultipartFuzz.check([MultipartPart(name: "a", range: 0..<8)], body: body, boundary: "b",
                                limits: MultipartFuzz.limits)
        }
    }

    @Test func overlappingMultipartPartsTrap() async {
        await #expect(processExitsWith: .failure) {
            let body = Data("ab\r\n--b\r\n--b".utf8)
            MultipartFuzz.check([MultipartPart(name: "a", range: 0..<2), MultipartPart(name: "b", range: 1..<2)],
                                body: body, boundary: "b", limits: MultipartFuzz.limits)
        }
    }

    @Test func aRefusalFoundationDoesNotShareTrapsUnlessDocumented() async {
        await #expect(processExitsWith: .failure) {
            JSONKitFuzz.checkFoundationRefusesToo(Data("[1]".utf8), JSONError(offset: 0, reason: .leadingZero))
        }
        // A trailing comma is a documented strictness.
        JSONKitFuzz.checkFoundationRefusesToo(Data("[1,]".utf8), JSONError(offset: 3, reason: .unexpectedByte(
            UInt8(ascii: "]"), expected: .value)))
    }

    @Test func aConsistentOutcomePasses() {
        let head = HTTPRequestHead(method: "POST", target: "/", version: .http1_1,
                                   headers: HTTPHeaders([("Content-Length", "2")]))
        let outcome = ParseOutcome(events: [.head(head), .request(HTTPRequest(head: head, body: Data("ab".utf8)))])
        HTTPParserFuzz.checkWellFormed(outcome, limits: HTTPParserFuzz.limits)
    }

    @Test(arguments: [
        ("5\r\nhello\r\n0\r\n\r\n", ChunkedReference.Outcome.complete(Array("hello".utf8))),
        ("5;a=b ; c = \"\\\"q\"\r\nhello\r\n0;x\r\nT: 1\r\n\r\nGET", .complete(Array("hello".utf8))),
        ("0000000000000000\r\n\r\n", .complete([])),
        ("5\r\nhel", .incomplete),
        ("5\r\nhello\r", .incomplete),
        ("0\r\nT: 1\r\n", .incomplete),
        ("00000000000000000\r\n\r\n", .invalid("")),
        ("5 \r\nhello\r\n0\r\n\r\n", .invalid("")),
        ("5;a \r\nhello\r\n0\r\n\r\n", .invalid("")),
        ("5;a=\r\nhello\r\n0\r\n\r\n", .invalid("")),
        ("5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n", .invalid("")),
        ("5\nhello\r\n0\r\n\r\n", .invalid("")),
        ("5\r\nhelloX\r\n", .invalid("")),
        ("1001\r\n", .invalid("")),
        ("0\r\nT : 1\r\n\r\n", .invalid("")),
        ("0\r\n a: 1\r\n\r\n", .invalid("")),
    ])
    func chunkedReferenceReadsTheGrammar(input: String, expected: ChunkedReference.Outcome) {
        let outcome = ChunkedReference.decode(Array(input.utf8)[...], limits: HTTPParserFuzz.limits)
        switch (outcome, expected) {
        case (.invalid, .invalid): break
        default: #expect(outcome == expected)
        }
    }

    @Test func aLineOverTheLimitIsRefusedBeforeItsEnd() {
        let line = Array(String(repeating: "a", count: ChunkedReference.maxSizeLineBytes + 1).utf8)
        guard case .invalid = ChunkedReference.decode(line[...], limits: HTTPParserFuzz.limits) else {
            Issue.record("a partial size line over 4096 bytes is not refused")
            return
        }
    }
}
