import Foundation
import JSONKit
import Support
import Testing

/// Typed float reads round exactly as the standard library's correctly rounded `Float(String)`: compared bit
/// for bit on seeded random literals of every shape, on the midpoints between adjacent floats (where a
/// conversion through Double rounds twice), and on the edges of the float range.
@Suite struct FloatRoundingTests {
    /// `literals` read in one array, each checked against `Float(literal)`; out-of-range ones are checked
    /// one by one to be `floatOutOfRange`.
    static func expectRoundsLikeTheStandardLibrary(_ literals: [String]) throws {
        let finite = literals.filter { Float($0)?.isFinite == true }
        var scanner = JSONScanner(Data(("[" + finite.joined(separator: ",") + "]").utf8))
        let values = try scanner.readFloats(maxCount: finite.count)
        #expect(values.count == finite.count)
        var mismatches = 0
        for (literal, value) in zip(finite, values) {
            guard let expected = Float(literal), value.bitPattern != expected.bitPattern else { continue }
            mismatches += 1
            if mismatches <= 10 { Issue.record("\(literal): read \(value), Float(String) gives \(expected)") }
        }
        #expect(mismatches == 0)
        for literal in literals where Float(literal)?.isFinite == false {
            var scanner = JSONScanner(Data("[1,\(literal)]".utf8))
            #expect(throws: JSONError(offset: 3, reason: .floatOutOfRange(literal: String(literal.prefix(40))
                                                                             + (literal.count > 40 ? "..." : ""),
                                                                         element: 1)), "\(literal)") {
                try scanner.readFloats(maxCount: 2)
            }
        }
    }

    @Test func randomDecimalLiteralsOfEveryLength() throws {
        var random = RandomLiteral(seed: 18)
        let literals = (0..<40_000).map { _ in random.decimal() }
        try Self.expectRoundsLikeTheStandardLibrary(literals)
    }

    @Test func everyFloatPrintedShortestAndAsPythonPrintsItsDouble() throws {
        var random = RandomLiteral(seed: 19)
        var literals: [String] = []
        for _ in 0..<20_000 {
            let float = random.float()
            // `json.dumps(array.tolist())` of float32 data prints each as the shortest repr of its double.
            literals += [float.description, Double(float).description, String(format: "%.9g", float)]
        }
        try Self.expectRoundsLikeTheStandardLibrary(literals)
    }

    @Test func midpointsBetweenAdjacentFloatsAndTheirNeighbours() throws {
        var random = RandomLiteral(seed: 20)
        var literals: [String] = []
        for _ in 0..<12_000 {
            let float = abs(random.float())
            guard float.isFinite, float < .greatestFiniteMagnitude else { continue }
            let midpoint = (Double(float) + Double(float.nextUp)) / 2  // exact: a float midpoint fits a double
            for digits in [8, 9, 16, 17, 19, 20, 25, 60] {
                literals.append(String(format: "%.\(digits)e", midpoint))
            }
            literals.append(String(format: "%.17e", midpoint.nextUp))
            literals.append(String(format: "%.17e", midpoint.nextDown))
        }
        try Self.expectRoundsLikeTheStandardLibrary(literals)
    }

    @Test func edgesOfTheFloatRange() throws {
        try Self.expectRoundsLikeTheStandardLibrary([
            "0", "-0", "0.0", "-0.0e5", "0e-999", "1", "-1", "0.1", "0.2", "0.3", "1e-45", "1.4e-45", "1.401298464324817e-45",
            "7.006492321624085e-46", "7.006492321624086e-46", "7.0064923216240862e-46", "7e-46", "1e-46", "1e-50",
            "1e-400", "1.1754942e-38", "1.17549435e-38", "1.1754943508222875e-38", "1.1754942106924411e-38",
            "3.4028234663852886e+38", "3.4028235e38", "3.40282356779733661637539395458142568447e38",
            "3.40282356779733661637539395458142568448e38", "340282356779733661637539395458142568448",
            "340282356779733661637539395458142568447", "1e38", "1e39", "-1e39", "1e400", "123456789e30",
            "16777216", "16777217", "16777218", "16777219", "16777217.000000000000000000001", "9007199254740993",
            "9007199254740993.0000000001", "1e23", "8.589973e9", "4.7223665e21", "0.123456789", "0.12345679104328156",
            "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308", "123456789012345678901234567890",
            "0.000000000000000000000000000000000000000000001401298464324817070923729583289916131280",
            String(repeating: "9", count: 39), String(repeating: "9", count: 38), "1" + String(repeating: "0", count: 400),
            "0." + String(repeating: "0", count: 300) + "1e310", "5e-324", "1e-38", "1.5e-38",
        ])
    }

    @Test func integersAreExactAndBooleansAreNotNumbers() throws {
        var scanner = JSONScanner(Data("[[0, -0], [9223372036854775807, -9223372036854775808]]".utf8))
        #expect(try scanner.readIntegers(maxCount: 4) == [0, 0, .max, .min])
        var random = RandomLiteral(seed: 21)
        let values = (0..<20_000).map { _ in
            Int(truncatingIfNeeded: random.next() << 32 | random.next()) >> Int(random.next() % 64)
        }
        var many = JSONScanner(Data(("[" + values.map(String.init).joined(separator: ",") + "]").utf8))
        #expect(try many.readIntegers(maxCount: values.count) == values)
    }
}

/// Seeded random number literals for the rounding tests (SplitMix64 draws: reproducible, and plenty for
/// choosing digits and bit patterns).
struct RandomLiteral {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// 32 random bits.
    mutating func next() -> UInt64 {
        generator.next() >> 32
    }

    /// A literal with 1 to 25 significant digits, a decimal point anywhere (or none), and maybe an exponent
    /// that puts it anywhere from far below the smallest subnormal to beyond the float range.
    mutating func decimal() -> String {
        let digitCount = 1 + Int(next() % 25)
        var digits = (0..<digitCount).map { _ in Character(String(next() % 10)) }
        if digits.count > 1, digits[0] == "0" { digits[0] = "1" }
        var text = next() % 2 == 0 ? "" : "-"
        let point = Int(next() % UInt64(digitCount + 1))
        if point == 0 || point == digitCount {
            text += String(digits)
        } else {
            text += String(digits[..<point]) + "." + String(digits[point...])
        }
        if next() % 4 != 0 {
            let exponent = Int(next() % 120) - 75
            text += (next() % 2 == 0 ? "e" : "E") + (exponent >= 0 && next() % 2 == 0 ? "+" : "") + String(exponent)
        }
        return text
    }

    /// A float from random bits: every binade, subnormals and both signs; never NaN or infinity.
    mutating func float() -> Float {
        while true {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: next()))
            if value.isFinite { return value }
        }
    }
}
