import Foundation
import JSONKit
import Testing

/// The cursor API: tokens, keys, skips, paths, and the limits every way of reading shares.
@Suite struct ScannerTests {
    static func scanner(_ text: String, options: JSONOptions = JSONOptions()) -> JSONScanner {
        JSONScanner(Data(text.utf8), options: options)
    }

    @Test func tokensComeInDocumentOrderWithSeparatorsChecked() throws {
        var scanner = Self.scanner(#" {"a": [1, "x", true, null], "b": {}} "#)
        var tokens: [JSONToken] = []
        while let token = try scanner.nextToken() { tokens.append(token) }
        #expect(tokens == [
            .beginObject, .key("a"), .beginArray, .number(try JSONNumber(parsing: "1")), .string("x"), .bool(true),
            .null, .endArray, .key("b"), .beginObject, .endObject, .endObject,
        ])
    }

    @Test func keysAndElementsDriveTheWalk() throws {
        var scanner = Self.scanner(#"{"name":"x","shape":[2,3],"skip":{"deep":[1,{"a":2}]}}"#)
        try scanner.beginObject()
        var seen: [String: String] = [:]
        while let key = try scanner.nextKey() {
            switch key {
            case "name": seen[key] = try scanner.readString()
            case "shape": seen[key] = "\(try scanner.readIntegers(maxCount: 8))"
            default: seen[key] = "\(try scanner.skipValue())"
            }
        }
        try scanner.finish()
        #expect(seen == ["name": "x", "shape": "[2, 3]", "skip": "33..<53"])
    }

    @Test func aValueWhereTheGrammarWantsANameIsRefused() throws {
        var scanner = Self.scanner(#"{"a" 1}"#)
        try scanner.beginObject()
        // Reading a value without `nextKey()` must not accept `"a"` as one.
        #expect(throws: JSONError(offset: 1, reason: .unexpectedByte(UInt8(ascii: "\""), expected: .memberName))) {
            try scanner.readString()
        }
    }

    @Test func readingTheWrongKindNamesBoth() {
        var scanner = Self.scanner("[true]")
        #expect(throws: JSONError(offset: 0, reason: .typeMismatch(expected: .object, found: .array))) {
            try scanner.beginObject()
        }
    }

    @Test func skipReturnsTheValueRangeAndItsLeaves() throws {
        let text = #"{"data": [[1, 2.5e3], [-3, {"k": [7, 8]}], "s", [], [[true]]], "next": 1}"#
        var scanner = Self.scanner(text)
        try scanner.beginObject()
        #expect(try scanner.nextKey() == "data")
        let (range, leaves) = try scanner.skipValueCountingLeaves()
        let bytes = Array(text.utf8)
        #expect(String(decoding: bytes[range], as: UTF8.self) == #"[[1, 2.5e3], [-3, {"k": [7, 8]}], "s", [], [[true]]]"#)
        #expect(leaves == 6)  // 1, 2.5e3, -3, the object, "s", true
        #expect(try scanner.nextKey() == "next")
        #expect(try scanner.readNumber().int64Value == 1)
        #expect(try scanner.nextKey() == nil)
        try scanner.finish()
    }

    @Test func aScannerOverARangeReportsOffsetsInTheWholeBuffer() throws {
        let data = Data(#"{"data":[1,2,true]}"#.utf8)
        var outer = JSONScanner(data)
        try outer.beginObject()
        _ = try outer.nextKey()
        let range = try outer.skipValue()
        var inner = JSONScanner(data, range: range)
        #expect(throws: JSONError(offset: 13, reason: .notANumber(.bool, element: 2))) {
            try inner.readFloats(maxCount: 10)
        }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "a", ""),
        (#"{"x":[{"b":1},{"b":1,"c":{"d":0,"d":0}}]}"#, "d", "x[1].c"),
        (#"{"a":1,"\u0061":2}"#, "a", ""),
        (#"[0,{"k":[{"z":1,"z":1}]}]"#, "z", "[1].k[0]"),
    ])
    func duplicateKeysAreRefusedWithTheirPath(text: String, key: String, path: String) {
        let expected = JSONError.Reason.duplicateKey(key, path: path)
        #expect(throws: JSONError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.reason == expected)
            #expect(error.description.contains("duplicate key '\(key)'"))
        }
        // A skip validates as strictly as a parse.
        do {
            var scanner = Self.scanner(text)
            try scanner.skipValue()
            Issue.record("skipped \(text)")
        } catch {
            #expect(error.reason == expected)
        }
    }

    @Test func namesThatDifferOnlyByNormalizationAreTwoNames() throws {
        let value = try JSONValue(parsing: "{\"\u{E9}\":1,\"e\u{301}\":2}")
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == 2)
    }

    @Test func duplicateKeysCanBeKeptInOrderWhenAsked() throws {
        let value = try JSONValue(parsing: #"{"a":1,"a":2}"#, options: JSONOptions(allowsDuplicateKeys: true))
        #expect(value == .object([JSONMember(key: "a", value: .number(try JSONNumber(parsing: "1"))),
                                  JSONMember(key: "a", value: .number(try JSONNumber(parsing: "2")))]))
    }

    @Test func nestingBeyondTheLimitIsRefusedEveryWay() throws {
        let limit = JSONOptions().maxDepth
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        let beyond = "[" + atLimit + "]"
        _ = try JSONValue(parsing: atLimit)
        var skipper = Self.scanner(atLimit)
        try skipper.skipValue()
        let tooDeep = JSONError(offset: limit, reason: .tooDeep(limit: limit))
        #expect(throws: tooDeep) { try JSONValue(parsing: beyond) }
        #expect(throws: tooDeep) {
            var scanner = Self.scanner(beyond)
            try scanner.skipValue()
        }
        #expect(throws: tooDeep) {
            var scanner = Self.scanner(beyond)
            _ = try scanner.readFloats(maxCount: 1)
        }
        #expect(throws: tooDeep) {
            var scanner = Self.scanner(beyond)
            _ = try scanner.readRectangularFloats(maxCount: 1)
        }
        _ = try JSONValue(parsing: #"{"a":[{"b":1}]}"#, options: JSONOptions(maxDepth: 3))
        #expect(throws: JSONError(offset: 6, reason: .tooDeep(limit: 2))) {
            try JSONValue(parsing: #"{"a":[{"b":1}]}"#, options: JSONOptions(maxDepth: 2))
        }
    }

    @Test func aHundredThousandOpenBracketsFailFast() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError(offset: 64, reason: .tooDeep(limit: 64))) { try JSONValue(parsing: text) }
    }
}
