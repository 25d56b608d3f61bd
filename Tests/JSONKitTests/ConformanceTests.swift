import Foundation
import JSONKit
import Testing

/// Every way of reading a document agrees with RFC 8259: the value tree, the token stream, and a skip.
@Suite struct ConformanceTests {
    @Test(arguments: RFC8259Cases.accepted)
    func acceptsValidDocumentsThreeWays(_ document: JSONCase) throws {
        let value = try JSONValue(parsing: document.data)
        var tokens = JSONScanner(document.data)
        var count = 0
        while try tokens.nextToken() != nil { count += 1 }
        #expect(count > 0)
        var skipper = JSONScanner(document.data)
        let range = try skipper.skipValue()
        try skipper.finish()
        // The skipped range is exactly the value's text, which parses alone to the same value.
        #expect(try JSONValue(parsing: document.data.subdata(in: range)) == value)
    }

    @Test(arguments: RFC8259Cases.refused)
    func refusesInvalidDocumentsThreeWays(_ document: JSONCase) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: document.data) }
        #expect(throws: JSONError.self) {
            var scanner = JSONScanner(document.data)
            while try scanner.nextToken() != nil {}
        }
        #expect(throws: JSONError.self) {
            var scanner = JSONScanner(document.data)
            try scanner.skipValue()
            try scanner.finish()
        }
    }

    @Test(arguments: [
        #"{"model":"m","inputs":[{"name":"x","shape":[2],"data":[1.5,-2e3]}],"flag":true,"none":null}"#,
        #"[{"a":"\u00e9\ud834\udd1e"},[[]],"x\n"]"#,
    ])
    func everyProperPrefixOfADocumentIsRefused(text: String) {
        let bytes = Array(text.utf8)
        for length in 0..<bytes.count {
            #expect(throws: JSONError.self, "prefix of \(length) bytes") {
                try JSONValue(parsing: Data(bytes[..<length]))
            }
        }
    }

    @Test(arguments: [
        ("[1,]", 3, JSONError.Reason.unexpectedByte(UInt8(ascii: "]"), expected: .value)),
        ("{\"a\" 1}", 5, .unexpectedByte(UInt8(ascii: "1"), expected: .colon)),
        ("[1 2]", 3, .unexpectedByte(UInt8(ascii: "2"), expected: .commaOrArrayEnd)),
        ("[01]", 1, .leadingZero),
        ("[1.]", 3, .unexpectedByte(UInt8(ascii: "]"), expected: .digit)),
        ("\"a\u{1}\"", 2, .controlCharacter(1)),
        ("\"\\q\"", 1, .invalidEscape(UInt8(ascii: "q"))),
        ("\"\\udc00\"", 1, .loneSurrogate(0xDC00)),
        ("[1] x", 4, .unexpectedByte(UInt8(ascii: "x"), expected: .endOfInput)),
        ("[\"abc", 5, .unexpectedEnd(expected: .closingQuote)),
    ])
    func errorsNameTheOffsetAndReason(text: String, offset: Int, reason: JSONError.Reason) {
        #expect(throws: JSONError(offset: offset, reason: reason)) { try JSONValue(parsing: text) }
    }

    @Test func invalidUTF8IsRefusedAtItsLeadByte() {
        let bytes: [UInt8] = [0x22, 0x61, 0xC3, 0x28, 0x22]
        #expect(throws: JSONError(offset: 2, reason: .invalidUTF8)) { try JSONValue(parsing: Data(bytes)) }
    }

    @Test func stringsDecodeEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #"["a\"\\\/\b\f\n\r\t", "\u00e9\uD834\uDD1E", "caf\#u{E9}", "\u0000"]"#)
        #expect(value == .array([.string("a\"\\/\u{8}\u{C}\n\r\t"), .string("\u{E9}\u{1D11E}"), .string("caf\u{E9}"),
                                 .string("\u{0}")]))
    }

    @Test func numbersKeepTheirLiteralAndKind() throws {
        let value = try JSONValue(parsing: "[0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 4.0, 1e2]")
        guard case .array(let numbers) = value else {
            Issue.record("not an array")
            return
        }
        #expect(numbers.compactMap { $0.numberValue?.kind } == [
            .integer(0), .integer(0), .integer(.max), .integer(.min), .largeInteger, .fractionOrExponent,
            .fractionOrExponent,
        ])
        #expect(numbers.compactMap { $0.numberValue?.literal } == [
            "0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "4.0", "1e2",
        ])
        #expect(try JSONNumber(parsing: "1e39").floatValue == nil)
        #expect(try JSONNumber(parsing: "0.1").floatValue == Float("0.1"))
    }
}
