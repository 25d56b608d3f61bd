import Foundation
import Testing
@testable import HTTPServer
import Support

@Suite struct CompressionTests {
    enum Content: String, CaseIterable, Sendable { case noise, text }

    /// Deterministic bytes: seeded noise (incompressible) or repeated English text (compresses well).
    static func sample(_ kind: Content, count: Int) -> Data {
        switch kind {
        case .noise:
            var generator = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
            return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 24) })
        case .text:
            let line = Array("The quick brown fox jumps over the lazy dog, again and again.\n".utf8)
            return Data((0..<count).map { line[$0 % line.count] })
        }
    }

    static func hex(_ text: String) -> Data {
        let digits = Array(text.utf8)
        return Data(stride(from: 0, to: digits.count - 1, by: 2).compactMap {
            UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)
        })
    }

    static func decodeError(_ data: Data, _ coding: ContentCoding, limit: Int = 1 << 20) -> CompressionError? {
        do {
            _ = try Compression.decode(data, coding: coding, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    static let text = sample(.text, count: 10_000)

    // MARK: round trip

    @Test(arguments: [0, 1, 100, 65_535, 65_536, 65_537, 1 << 20], Content.allCases)
    func gzipRoundTrips(size: Int, content: Content) throws {
        let original = Self.sample(content, count: size)
        let packed = try Compression.gzip(original)
        #expect(Array(packed.prefix(3)) == [0x1F, 0x8B, 0x08])
        #expect(try Compression.decode(packed, coding: .gzip, limit: size) == original)
        if content == .text && size >= 65_536 { #expect(packed.count < size / 20) }
    }

    @Test(arguments: [Int32(-1), 0, 1, 9])
    func everyLevelRoundTrips(level: Int32) throws {
        let packed = try Compression.gzip(Self.text, level: level)
        #expect(try Compression.decode(packed, coding: .gzip, limit: Self.text.count) == Self.text)
    }

    @Test func rejectsLevelOutsideZlibRange() {
        #expect(throws: CompressionError.invalidLevel(10)) { try Compression.gzip(Self.text, level: 10) }
    }

    // MARK: other encoders

    @Test func decodesOutputOfTheGzipTool() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("sample.txt")  // A named file: the header carries FNAME.
        let original = Self.sample(.text, count: 200_000)
        try original.write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-9", file.path]
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let packed = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try Compression.decode(packed, coding: .gzip, limit: 1 << 20) == original)
    }

    @Test func decodesEmbeddedGzipToolOutput() throws {
        // printf 'hello from the gzip tool\n' | gzip -c
        let packed = Self.hex("1f8b0800000000000003cb48cdc9c957482bcacf5528c9485548afca2c5028c9cfcfe102005f711bba19000000")
        #expect(try Compression.decode(packed, coding: .gzip, limit: 100) == Data("hello from the gzip tool\n".utf8))
    }

    @Test func decodesDeflateAsZlibStream() throws {
        // Python: zlib.compress(b"hello, zlib")
        let packed = Self.hex("789ccb48cdc9c9d751a8cac94c020018b20412")
        #expect(try Compression.decode(packed, coding: .deflate, limit: 100) == Data("hello, zlib".utf8))
    }

    @Test func decodesDeflateAsRawStreamWithoutZlibHeader() throws {
        // Python: zlib.compressobj(6, zlib.DEFLATED, -15) over b"hello, raw deflate"
        let packed = Self.hex("cb48cdc9c9d751284a2c5748494dcb492c490500")
        #expect(try Compression.decode(packed, coding: .deflate, limit: 100) == Data("hello, raw deflate".utf8))
    }

    @Test func joinsConcatenatedGzipMembers() throws {
        let first = Data("first member, ".utf8), second = Self.text
        let packed = try Compression.gzip(first) + Compression.gzip(second)
        #expect(try Compression.decode(packed, coding: .gzip, limit: 1 << 20) == first + second)
    }

    @Test func identityPassesThroughWithinLimit() throws {
        #expect(try Compression.decode(Self.text, coding: .identity, limit: Self.text.count) == Self.text)
        #expect(Self.decodeError(Self.text, .identity, limit: Self.text.count - 1) == .tooLarge(limit: 9_999))
    }

    // MARK: limits

    @Test func gzipBombStopsAtTheLimit() throws {
        let packed = try Compression.gzip(Data(count: 64 << 20), level: 9)
        #expect(packed.count < 128 << 10)
        #expect(Self.decodeError(packed, .gzip, limit: 1 << 20) == .tooLarge(limit: 1 << 20))
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 200_000])
    func outputOfExactlyTheLimitIsAccepted(size: Int) throws {
        let original = Self.sample(.noise, count: size)
        let packed = try Compression.gzip(original)
        #expect(try Compression.decode(packed, coding: .gzip, limit: size) == original)
        if size > 0 {
            #expect(Self.decodeError(packed, .gzip, limit: size - 1) == .tooLarge(limit: size - 1))
        }
    }

    // MARK: corrupt input

    @Test(arguments: [1, 4, 8, 9, 100, 1000])
    func truncatedGzipIsCorrupt(cut: Int) throws {
        let packed = try Compression.gzip(Self.sample(.noise, count: 2000))
        let error = Self.decodeError(packed.dropLast(cut), .gzip)
        #expect(error?.isCorrupt == true, "\(String(describing: error))")
    }

    @Test func truncatedZlibIsCorrupt() {
        let packed = Self.hex("789ccb48cdc9c9d751a8cac94c020018b20412")
        #expect(Self.decodeError(packed.dropLast(1), .deflate)?.isCorrupt == true)
        #expect(Self.decodeError(packed.prefix(2), .deflate)?.isCorrupt == true)
    }

    @Test func emptyInputIsCorrupt() {
        #expect(Self.decodeError(Data(), .gzip)?.isCorrupt == true)
        #expect(Self.decodeError(Data(), .deflate)?.isCorrupt == true)
    }

    @Test func garbageIsCorrupt() {
        let garbage = Self.sample(.noise, count: 500)
        #expect(Self.decodeError(garbage, .gzip)?.isCorrupt == true)
        #expect(Self.decodeError(Data("not compressed at all".utf8), .deflate)?.isCorrupt == true)
        #expect(Self.decodeError(Data([0x1F, 0x8B, 0x08, 0x00]) + garbage, .gzip)?.isCorrupt == true)
    }

    @Test(arguments: [Data([0x00]), Data([0x00, 0x00, 0x00, 0x00]), Data("junk".utf8), Data([0x1F])])
    func trailingBytesAfterGzipAreCorrupt(trailer: Data) throws {
        let packed = try Compression.gzip(Self.text) + trailer
        #expect(Self.decodeError(packed, .gzip)?.isCorrupt == true)
    }

    @Test func trailingBytesAfterZlibAreCorrupt() {
        let packed = Self.hex("789ccb48cdc9c9d751a8cac94c020018b20412") + Data("x".utf8)
        #expect(Self.decodeError(packed, .deflate)?.isCorrupt == true)
    }

    @Test(arguments: [8, 5, 4, 1])  // Offsets from the end: CRC-32 bytes (8, 5), ISIZE bytes (4, 1).
    func badGzipTrailerIsCorrupt(offsetFromEnd: Int) throws {
        var packed = try Compression.gzip(Self.text)
        packed[packed.count - offsetFromEnd] ^= 0x01
        #expect(Self.decodeError(packed, .gzip) == .corrupt("incorrect data check")
                    || Self.decodeError(packed, .gzip) == .corrupt("incorrect length check"))
    }

    @Test func badAdlerChecksumIsCorrupt() {
        var packed = Self.hex("789ccb48cdc9c9d751a8cac94c020018b20412")
        packed[packed.count - 1] ^= 0x01
        #expect(Self.decodeError(packed, .deflate) == .corrupt("incorrect data check"))
    }

    @Test func errorsMapToStatuses() {
        #expect(CompressionError.tooLarge(limit: 1).status == 413)
        #expect(CompressionError.corrupt("x").status == 400)
        #expect(CompressionError.zlibFailure(function: "inflate", code: -4).status == 500)
    }

    // MARK: header values

    @Test(arguments: [
        ("gzip", ContentCoding.gzip), (" GZip\t", .gzip), ("x-gzip", .gzip), ("deflate", .deflate),
        ("Deflate ", .deflate), ("identity", .identity), ("gzip,", .gzip),
        ("gzip, gzip", nil), ("gzip, deflate", nil), ("br", nil), ("", nil), ("  ", nil), ("compress", nil),
    ] as [(String, ContentCoding?)])
    func parsesContentEncoding(value: String, expected: ContentCoding?) {
        #expect(ContentCoding(headerValue: value) == expected)
    }

    @Test(arguments: [
        ("gzip", ContentCoding.gzip), ("GZIP;q=0.5", .gzip), ("gzip;q=0", .identity), ("gzip;q=0.000", .identity),
        ("gzip; q=0.001", .gzip), ("gzip ; Q=1.0", .gzip), ("*", .gzip), ("*;q=0", .identity),
        ("deflate, br", .identity), ("identity", .identity), ("", .identity),
        ("gzip;q=0, *", .identity), ("*, gzip;q=0", .identity), ("*;q=0, gzip", .gzip),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", .gzip), ("x-gzip", .gzip), ("deflate, gzip", .gzip),
        ("identity;q=1, gzip;q=0.5", .identity), ("identity;q=0.5, gzip", .gzip), ("gzip, identity", .gzip),
        ("identity;q=0, *", .gzip), ("gzip;q=2", .identity), ("gzip;q=1.5", .identity), ("gzip;q=abc", .identity),
        ("gzip;q=0.5000", .identity), ("gzip;q=", .identity), ("gzip, gzip;q=0", .identity), (",,gzip,", .gzip),
        ("gzip;level=1", .gzip),
    ] as [(String, ContentCoding)])
    func choosesResponseCoding(acceptEncoding: String, expected: ContentCoding) {
        #expect(Compression.preferredCoding(acceptEncoding: acceptEncoding) == expected)
    }

    @Test func absentAcceptEncodingMeansIdentity() {
        #expect(Compression.preferredCoding(acceptEncoding: nil) == .identity)
    }
}

extension CompressionError {
    var isCorrupt: Bool {
        if case .corrupt = self { return true }
        return false
    }
}
