import JSONKit
import Testing

/// The small tree reads configuration files are written against: `JSONObjectReader` and the typed accessors
/// of `JSONValue` and `JSONNumber`.
@Suite struct ObjectReaderTests {
    static func reader(_ text: String, path: String = "", allowedKeys: Set<String>? = nil) throws -> JSONObjectReader {
        try #require(JSONObjectReader(try JSONValue(parsing: text), path: path, allowedKeys: allowedKeys))
    }

    @Test func namesKeysAndElementsByTheirDottedPath() throws {
        let top = try Self.reader(#"{"port": 1}"#)
        #expect(top.keyPath("port") == "port")
        let model = try Self.reader(#"{"sizes": [1, 2]}"#, path: "models[1]")
        #expect(model.keyPath("precision") == "models[1].precision")
        #expect(model.elementPath("sizes", 2) == "models[1].sizes[2]")
    }

    @Test func findsTheFirstUnknownKeyInSortedOrder() throws {
        let allowed: Set = ["a", "b"]
        #expect(try Self.reader(#"{"b": 1, "a": 2}"#, allowedKeys: allowed).unknownKeyPath == nil)
        #expect(try Self.reader(#"{"z": 1, "a": 2, "y": 3}"#, path: "limits", allowedKeys: allowed).unknownKeyPath
                == "limits.y")
        #expect(try Self.reader(#"{"anything": 1}"#).unknownKeyPath == nil)
    }

    @Test func looksUpByUTF8BytesAndTellsNullFromAbsent() throws {
        let reader = try Self.reader(#"{"caf\u00e9": 1, "none": null}"#)
        #expect(reader["café"] == .number(try JSONNumber(parsing: "1")))
        #expect(reader["cafe\u{301}"] == nil)
        #expect(reader["none"] == .null && reader.nonNull("none") == nil)
        #expect(reader["absent"] == nil && reader.nonNull("absent") == nil)
    }

    @Test(arguments: ["[1]", "\"text\"", "3", "null", "true"])
    func readsOnlyObjects(text: String) throws {
        #expect(JSONObjectReader(try JSONValue(parsing: text)) == nil)
    }

    @Test(arguments: [
        ("8080", Int64(8080)), ("-0", 0), ("8080.0", 8080), ("4e0", 4), ("1.5e1", 15), ("-2.50e1", -25),
        ("0.0e-400", 0), ("120e-1", 12), ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("92233720368547758.07e2", .max), ("9007199254740993.0", 9_007_199_254_740_993),
        ("10000000000000000000e-1", 1_000_000_000_000_000_000),
    ])
    func integralValuesAreExactHoweverWritten(literal: String, value: Int64) throws {
        #expect(try JSONNumber(parsing: literal).integralValue == value)
    }

    @Test(arguments: ["80.5", "1e30", "9223372036854775808", "-9223372036854775809", "1e-1", "0.1e1000000000",
                      "12345678901234567890.5", "1.00000000000000000001"])
    func integralValuesRefuseFractionsAndOverflow(literal: String) throws {
        #expect(try JSONNumber(parsing: literal).integralValue == nil)
    }

    @Test func integerValuesAreNumbersOnly() throws {
        #expect(try JSONValue(parsing: "4.0").integerValue == 4)
        #expect(try JSONValue(parsing: "true").integerValue == nil)
        #expect(try JSONValue(parsing: "\"4\"").integerValue == nil)
        #expect(try JSONValue(parsing: "[4]").arrayValue == [try JSONValue(parsing: "4")])
        #expect(try JSONValue(parsing: #"{"a": 1}"#).members?.map(\.key) == ["a"])
    }

    @Test(arguments: [
        (#""80""#, #""80""#), ("1e30", "1e30"), ("true", "true"), ("false", "false"), ("null", "null"),
        ("[1]", "an array"), (#"{"a": 1}"#, "an object"),
        ("\"" + String(repeating: "x", count: 50) + "\"", "\"" + String(repeating: "x", count: 40) + "...\""),
    ])
    func summariesAreShort(text: String, summary: String) throws {
        #expect(try JSONValue(parsing: text).summary == summary)
    }

    @Test func errorsGiveTheirLineAndColumn() {
        let text = "{\n  \"port\": 1,\n  oops\n}"
        do {
            _ = try JSONValue(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.lineAndColumn(in: Array(text.utf8)) == (3, 3))
        }
        #expect(JSONError(offset: 0, reason: .leadingZero).lineAndColumn(in: Array("0".utf8)) == (1, 1))
    }
}
