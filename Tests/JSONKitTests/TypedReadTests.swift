import Foundation
import JSONKit
import Testing

/// Numbers straight into typed buffers: flattening, the count limit, and what is not a number.
@Suite struct TypedReadTests {
    static func scanner(_ text: String) -> JSONScanner { JSONScanner(Data(text.utf8)) }

    @Test func nestedArraysFlattenRowMajor() throws {
        var nested = Self.scanner(" [[1, 2], [[3], []], 4.5, [[[ -6 ]]]] ")
        #expect(try nested.readFloats(maxCount: 10) == [1, 2, 3, 4.5, -6])
        try nested.finish()
        var scalar = Self.scanner("7")
        #expect(try scalar.readIntegers(maxCount: 1) == [7])
        var empty = Self.scanner("[[], []]")
        #expect(try empty.readFloats(maxCount: 0) == [])
    }

    @Test func theCountLimitIsExactAndChecksBeforeDecoding() throws {
        var atLimit = Self.scanner("[1,2,3]")
        #expect(try atLimit.readIntegers(maxCount: 3) == [1, 2, 3])
        var beyond = Self.scanner("[1,2,3,1e999]")
        // The fourth number is refused for its count before its value is looked at.
        #expect(throws: JSONError(offset: 7, reason: .tooManyElements(limit: 3))) {
            try beyond.readFloats(maxCount: 3)
        }
    }

    @Test(arguments: [
        ("[4, true]", JSONError(offset: 4, reason: .notANumber(.bool, element: 1))),
        ("[null]", JSONError(offset: 1, reason: .notANumber(.null, element: 0))),
        ("[\"1\"]", JSONError(offset: 1, reason: .notANumber(.string, element: 0))),
        ("[[1], {\"a\": 1}]", JSONError(offset: 6, reason: .notANumber(.object, element: 1))),
        ("false", JSONError(offset: 0, reason: .notANumber(.bool, element: 0))),
        ("[1 2]", JSONError(offset: 3, reason: .unexpectedByte(UInt8(ascii: "2"), expected: .commaOrArrayEnd))),
        ("[1,]", JSONError(offset: 3, reason: .unexpectedByte(UInt8(ascii: "]"), expected: .value))),
        ("[3.4028236e38]", JSONError(offset: 1, reason: .floatOutOfRange(literal: "3.4028236e38", element: 0))),
    ])
    func booleansNullAndOutOfRangeAreNotFloats(text: String, error: JSONError) {
        var scanner = Self.scanner(text)
        #expect(throws: error) { try scanner.readFloats(maxCount: 10) }
    }

    @Test(arguments: [
        ("[1, 4.0]", JSONError.Reason.notAnInteger(literal: "4.0", element: 1)),
        ("[1e2]", .notAnInteger(literal: "1e2", element: 0)),
        ("[9223372036854775808]", .integerOutOfRange(literal: "9223372036854775808", element: 0)),
        ("[-9223372036854775809]", .integerOutOfRange(literal: "-9223372036854775809", element: 0)),
        ("[123456789012345678901234567890123456789012345678901]",
         .integerOutOfRange(literal: "1234567890123456789012345678901234567890...", element: 0)),
        ("[true]", .notANumber(.bool, element: 0)),
    ])
    func integersRefuseFractionsExponentsAndOverflow(text: String, reason: JSONError.Reason) {
        var scanner = Self.scanner(text)
        do {
            _ = try scanner.readIntegers(maxCount: 10)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.reason == reason)
        }
    }

    @Test func booleansReadAsOneAndZeroOnlyWhenAsked() throws {
        var scanner = Self.scanner("[true, false, 1, 0]")
        #expect(try scanner.readIntegers(maxCount: 4, acceptsBooleans: true) == [1, 0, 1, 0])
    }

    @Test(arguments: [
        ("[[1, 2, 3], [4, 5, 6]]", [2, 3]),
        ("[]", [0]),
        ("[[]]", [1, 0]),
        ("[[], []]", [2, 0]),
        ("[ [ [1] ] ]", [1, 1, 1]),
        ("5", []),
    ])
    func rectangularReadsGiveTheShape(text: String, shape: [Int]) throws {
        var scanner = Self.scanner(text)
        let (readShape, values) = try scanner.readRectangularFloats(maxCount: 100)
        #expect(readShape == shape)
        #expect(values.count == shape.reduce(1, *))
    }

    @Test(arguments: [
        ("[[1, 2], [3]]", JSONError(offset: 11, reason: .raggedArray(depth: 1, expected: 2))),
        ("[[1], [2, 3]]", JSONError(offset: 10, reason: .raggedArray(depth: 1, expected: 1))),
        ("[[1], 2]", JSONError(offset: 6, reason: .raggedArray(depth: 1, expected: 1))),
        ("[[], [1]]", JSONError(offset: 6, reason: .raggedArray(depth: 1, expected: 0))),
        ("[1, [2]]", JSONError(offset: 4, reason: .notANumber(.array, element: 1))),
        ("[[1], [true]]", JSONError(offset: 7, reason: .notANumber(.bool, element: 1))),
        ("[[1], [2],]", JSONError(offset: 10, reason: .unexpectedByte(UInt8(ascii: "]"), expected: .value))),
        ("[[1,2],[3,4],[5,6]]", JSONError(offset: 16, reason: .tooManyElements(limit: 5))),
    ])
    func raggedOrNonNumericBlocksAreRefused(text: String, error: JSONError) {
        var scanner = Self.scanner(text)
        #expect(throws: error) { try scanner.readRectangularIntegers(maxCount: 5) }
    }

    @Test func largeBlocksReadAtTheirShape() throws {
        let rows = (0..<300).map { row in "[" + (0..<200).map { "\(row * 200 + $0)" }.joined(separator: ", ") + "]" }
        var scanner = Self.scanner("[" + rows.joined(separator: ",\n") + "]")
        let (shape, values) = try scanner.readRectangularIntegers(maxCount: 60_000)
        #expect(shape == [300, 200])
        #expect(values == Array(0..<60_000))
    }
}
