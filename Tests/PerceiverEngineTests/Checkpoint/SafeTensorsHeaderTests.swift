import Support
import Testing

@testable import PerceiverEngine

private let memoryPath = "memory/model.safetensors"

/// Parses `bytes` as a whole safetensors file.
private func parse(_ bytes: [UInt8]) throws(ModelLoadError) -> SafeTensorsHeader {
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(ModelLoadError) in try SafeTensorsHeader(bytes: buffer, path: memoryPath) }
    }
    return try result.get()
}

/// The error parsing `bytes` throws, recorded as an issue if parsing succeeds.
private func parseError(_ bytes: [UInt8]) throws -> ModelLoadError {
    try #require(loadError { try parse(bytes) })
}

/// The reason of an `.invalidHeader` error for this test file, or nil for any other error.
private func invalidHeaderReason(_ error: ModelLoadError) -> String? {
    guard case .invalidHeader(let path, let reason) = error, path == memoryPath else {
        return nil
    }
    return reason
}

private let fourFloats = littleEndianBytes([Float](repeating: 1, count: 4))

@Suite("Safetensors header")
struct SafeTensorsHeaderTests {
    @Test(arguments: [0, 1, 7])
    func rejectsFileShorterThanLengthPrefix(size: Int) throws {
        let error = try parseError([UInt8](repeating: 0, count: size))
        #expect(error == .truncated(path: memoryPath, size: size))
        #expect(error.description.contains(memoryPath))
    }

    @Test(arguments: [UInt64(17), UInt64(1_000_000), UInt64(1) << 63, UInt64.max])
    func rejectsHeaderLengthPastEnd(length: UInt64) throws {
        // 8-byte prefix + 16 bytes: a length of 17 is one past the end.
        let bytes = SafeTensorsWriter.raw(headerBytes: Array("{}              ".utf8), headerLength: length)
        let error = try parseError(bytes)
        #expect(error == .headerLengthPastEnd(path: memoryPath, headerLength: length, fileSize: 24))
        #expect(error.description.contains(memoryPath))
    }

    @Test(arguments: ["not json", "[1, 2]", "\"text\"", "{\"w\": ", "  {}", "{} trailing", "", "{}}"])
    func rejectsHeaderThatIsNotAJSONObject(header: String) throws {
        let error = try parseError(SafeTensorsWriter.file(header: header))
        #expect(invalidHeaderReason(error) != nil, "got \(error)")
        #expect(error.description.contains(memoryPath))
    }

    @Test func rejectsHeaderWithControlBytesOrUTF16() throws {
        let utf16: [UInt8] = littleEndianBytes(Array("{}".utf16))
        let candidates: [[UInt8]] = [utf16, Array("{\"a\u{01}\":1}".utf8), [0x7B, 0xFF, 0x7D]]
        for headerBytes in candidates {
            let error = try parseError(SafeTensorsWriter.raw(headerBytes: headerBytes))
            #expect(invalidHeaderReason(error) != nil, "got \(error)")
            #expect(error.description.contains(memoryPath))
        }
    }

    @Test func acceptsSpacePaddedHeaderAndReadsMetadata() throws {
        let bytes = SafeTensorsWriter.file(
            [WrittenTensor("w", "F32", [2, 2], fourFloats)], metadata: ["format": "pt"])
        let header = try parse(bytes + [])
        #expect(header.metadata == ["format": "pt"])
        #expect(header.dataOffset % 8 == 0)
        #expect(header.entries.map(\.name) == ["w"])
        #expect(header.entries.first?.byteRange == 0..<16)
        let heavilyPadded = SafeTensorsWriter.raw(headerBytes: Array("{}\n\t      ".utf8))
        #expect(try parse(heavilyPadded).entries.isEmpty)
    }

    @Test func rejectsOffsetsPastDataSection() throws {
        let bytes = SafeTensorsWriter.file([WrittenTensor("w", "F32", [4], fourFloats, offsets: (4, 20))])
        let error = try parseError(bytes)
        #expect(error == .offsetsOutOfRange(tensor: "w", begin: 4, end: 20, dataSize: 16))
        #expect(error.description.contains("'w'"))
    }

    @Test func rejectsReversedOffsets() throws {
        let bytes = SafeTensorsWriter.file([WrittenTensor("w", "F32", [0], fourFloats, offsets: (16, 0))])
        let error = try parseError(bytes)
        #expect(error == .offsetsOutOfRange(tensor: "w", begin: 16, end: 0, dataSize: 16))
        #expect(error.description.contains("'w'"))
    }

    @Test func rejectsOverlappingTensors() throws {
        let bytes = SafeTensorsWriter.file([
            WrittenTensor("a", "F32", [3], [], offsets: (0, 12)),
            WrittenTensor("b", "F32", [2], [], offsets: (16, 24)),
            WrittenTensor("c", "F32", [2], fourFloats + fourFloats, offsets: (8, 16)),
        ])
        let error = try parseError(bytes)
        #expect(error == .overlappingTensors("a", "c"))
        #expect(error.description.contains("'a'") && error.description.contains("'c'"))
    }

    @Test func acceptsTouchingAndEmptyTensors() throws {
        let bytes = SafeTensorsWriter.file([
            WrittenTensor("a", "F32", [2], [], offsets: (0, 8)),
            WrittenTensor("b", "F32", [2], fourFloats, offsets: (8, 16)),
            WrittenTensor("empty", "F32", [0], [], offsets: (4, 4)),
        ])
        #expect(try parse(bytes).entries.map(\.name) == ["a", "b", "empty"])
    }

    @Test func rejectsByteLengthMismatch() throws {
        let bytes = SafeTensorsWriter.file([WrittenTensor("w", "F32", [3], fourFloats)])
        let error = try parseError(bytes)
        #expect(error == .byteLengthMismatch(tensor: "w", expected: 12, actual: 16))
        #expect(error.description.contains("'w'"))
    }

    @Test(arguments: ["F8_E4M3", "XYZ", "f32", ""])
    func rejectsUnknownDTypeString(dtype: String) throws {
        let error = try parseError(SafeTensorsWriter.file([WrittenTensor("w", dtype, [4], fourFloats)]))
        #expect(error == .unsupportedDType(tensor: "w", dtype: dtype))
        #expect(error.description.contains("'w'"))
    }

    @Test(arguments: [
        #"{"w": 3}"#,
        #"{"w": {"shape": [4], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": 4, "shape": [4], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4.5], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4.0], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4e0], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": ["4"], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [null], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [9223372036854775808], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [123456789012345678901234567890], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [2305843009213693952], "data_offsets": [0, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16, 32]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [-1, 16]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16.0]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 18446744073709551615]}}"#,
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": "0-16"}}"#,
    ])
    func rejectsMalformedTensorDescription(header: String) throws {
        let error = try parseError(SafeTensorsWriter.file(header: header, data: fourFloats))
        let reason = try #require(invalidHeaderReason(error), "got \(error)")
        #expect(reason.contains("'w'"))
        #expect(error.description.contains(memoryPath) && error.description.contains("'w'"))
    }

    @Test(arguments: [#"{"__metadata__": {"format": 1}}"#, #"{"__metadata__": ["pt"]}"#])
    func rejectsMetadataThatIsNotAStringMap(header: String) throws {
        let error = try parseError(SafeTensorsWriter.file(header: header))
        let reason = try #require(invalidHeaderReason(error), "got \(error)")
        #expect(reason.contains("__metadata__"))
        #expect(error.description.contains(memoryPath))
    }

    /// A name written twice is refused by the JSON reader; two that differ in bytes but are equal as Swift
    /// strings would collide in every map keyed by tensor name, so they are refused too.
    @Test(arguments: [
        #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "#
            + #""w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#,
        #"{"\u00e9": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "#
            + #""e\u0301": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#,
    ])
    func rejectsTensorNamedTwice(header: String) throws {
        let error = try parseError(SafeTensorsWriter.file(header: header, data: fourFloats))
        #expect(invalidHeaderReason(error) != nil, "got \(error)")
    }

    @Test func corruptedFilesThrowInsteadOfCrashing() {
        let valid = SafeTensorsWriter.file(
            [WrittenTensor("a", "F16", [2], [0, 0x3C, 0, 0xC0]), WrittenTensor("b", "F32", [4], fourFloats)],
            metadata: ["k": "v"])
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<generator.nextInt(in: 1..<5) {
                let index = generator.nextInt(in: bytes.indices)
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.nextInt(in: 0..<4) == 0 {
                bytes.removeLast(generator.nextInt(in: bytes.indices))
            }
            // Either outcome is fine; the point is that parsing returns.
            _ = loadError { try parse(bytes) }
        }
    }
}
