import Testing

@testable import PerceiverEngine

/// Runs `body` and returns the `ModelLoadError` it throws, or nil if it succeeds. Any other
/// error is recorded as a test failure (the loader promises to throw only `ModelLoadError`).
func loadError<T>(_ body: () throws -> T) -> ModelLoadError? {
    do {
        _ = try body()
        return nil
    } catch let error as ModelLoadError {
        return error
    } catch {
        Issue.record("expected a ModelLoadError, got \(error)")
        return nil
    }
}

/// Writes `tensors` as `model.safetensors` into a new directory.
func singleFileDirectory(_ tensors: [WrittenTensor], dataAlignment: Int = 0) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try directory.write(SafeTensorsWriter.file(tensors, dataAlignment: dataAlignment), to: "model.safetensors")
    return directory
}

/// Whether `pointer` lies inside `buffer`.
func isInside(_ pointer: UnsafePointer<Float>, _ buffer: UnsafeRawBufferPointer) -> Bool {
    guard let base = buffer.baseAddress else {
        return false
    }
    let address = UnsafeRawPointer(pointer)
    return address >= base && address < base + buffer.count
}

/// Whether `actual` has the same bits as `expected`, or both are NaN.
func sameFloat(_ actual: Float, _ expected: Float) -> Bool {
    expected.isNaN ? actual.isNaN : actual.bitPattern == expected.bitPattern
}

@Suite("Checkpoint")
struct CheckpointTests {
    @Test func mapsAlignedF32WeightsWithoutCopying() throws {
        let values: [Float] = [1, -2.5, 0x1p-149, .greatestFiniteMagnitude, -0.0, 3.25]
        let directory = try singleFileDirectory([
            WrittenTensor("encoder.weight", "F32", [2, 3], littleEndianBytes(values)),
            WrittenTensor("encoder.bias", "F32", [3], littleEndianBytes([Float](repeating: 7, count: 3))),
        ])
        let checkpoint = try Checkpoint(directory: directory.path)
        let tensor = try checkpoint.floatTensor("encoder.weight")

        #expect(tensor.shape == [2, 3])
        #expect(tensor.count == 6)
        #expect(zip(tensor.values, values).allSatisfy { sameFloat($0, $1) })
        let mapped = try #require(checkpoint.loadedFileBytes(holding: "encoder.weight"))
        #expect(isInside(tensor.data, mapped))
        #expect(checkpoint.tensorNames == ["encoder.bias", "encoder.weight"])
        #expect(checkpoint.info("encoder.bias")?.byteRange == 24..<36)
        #expect(checkpoint.files == [directory.path + "/model.safetensors"])
        #expect(checkpoint.storedDTypes == [.f32])
        #expect(checkpoint.totalParameterCount == 9)
    }

    @Test func mappedTensorStaysReadableAfterCheckpointIsReleased() throws {
        let directory = try singleFileDirectory([WrittenTensor("w", "F32", [2], littleEndianBytes([Float(4), 5]))])
        var checkpoint: Checkpoint? = try Checkpoint(directory: directory.path)
        let tensor = try #require(try checkpoint?.floatTensor("w"))
        checkpoint = nil
        #expect(tensor.values == [4, 5])
    }

    @Test func convertsF16BitPatternsExactly() throws {
        let cases: [(bits: UInt16, value: Float)] = [
            (0x0000, 0), (0x8000, -0.0), (0x0001, 0x1p-24), (0x8001, -0x1p-24),
            (0x03FF, 0x3FFp-24), (0x0400, 0x1p-14), (0x3C00, 1), (0xC000, -2),
            (0x3555, 0x1.554p-2), (0x7BFF, 65504), (0x7C00, .infinity), (0xFC00, -.infinity),
            (0x7E00, .nan), (0x7C01, .nan), (0xFE00, .nan),
        ]
        let directory = try singleFileDirectory([
            WrittenTensor("h", "F16", [cases.count], littleEndianBytes(cases.map(\.bits)))
        ])
        let values = try Checkpoint(directory: directory.path).floatTensor("h").values
        for (index, testCase) in cases.enumerated() {
            #expect(sameFloat(values[index], testCase.value), "bits 0x\(String(testCase.bits, radix: 16))")
        }
        #expect(values[0].sign == .plus && values[1].sign == .minus)
    }

    @Test func f16ConversionMatchesFloat16ForEveryBitPattern() {
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            #expect(sameFloat(floatFromF16Bits(bits), expected), "bits 0x\(String(bits, radix: 16))")
        }
    }

    @Test func convertsBF16BitPatternsExactly() throws {
        let cases: [(bits: UInt16, value: Float)] = [
            (0x0000, 0), (0x8000, -0.0), (0x0001, 0x1p-133), (0x3F80, 1), (0xC000, -2),
            (0x4049, 3.140625), (0x7F7F, 0x1.FEp127), (0x7F80, .infinity), (0xFF80, -.infinity),
            (0x7FC0, .nan),
        ]
        let directory = try singleFileDirectory([
            WrittenTensor("b", "BF16", [cases.count], littleEndianBytes(cases.map(\.bits)))
        ])
        let checkpoint = try Checkpoint(directory: directory.path)
        let values = try checkpoint.floatTensor("b").values
        for (index, testCase) in cases.enumerated() {
            #expect(sameFloat(values[index], testCase.value), "bits 0x\(String(testCase.bits, radix: 16))")
        }
        #expect(checkpoint.totalParameterCount == cases.count)
    }

    @Test func copiesUnalignedF32Exactly() throws {
        let values: [Float] = [1.5, -0.0, .infinity, 0x1.fffffep-1, 42]
        // Data section starts at a file offset that is 2 mod 8, so the F32 bytes are misaligned.
        let directory = try singleFileDirectory(
            [WrittenTensor("w", "F32", [5], littleEndianBytes(values))], dataAlignment: 2)
        let checkpoint = try Checkpoint(directory: directory.path)
        let tensor = try checkpoint.floatTensor("w")
        #expect(zip(tensor.values, values).allSatisfy { sameFloat($0, $1) })
        let mapped = try #require(checkpoint.loadedFileBytes(holding: "w"))
        #expect(!isInside(tensor.data, mapped))
    }

    @Test func convertsF16StoredAtOddOffset() throws {
        let directory = try singleFileDirectory([
            WrittenTensor("pad", "U8", [1], [0xAA]),
            WrittenTensor("h", "F16", [3], littleEndianBytes([UInt16(0x3C00), 0xC000, 0x0001])),
        ])
        let tensor = try Checkpoint(directory: directory.path).floatTensor("h")
        #expect(tensor.values == [1, -2, 0x1p-24])
    }

    @Test func readsEmptyAndScalarTensors() throws {
        let directory = try singleFileDirectory([
            WrittenTensor("empty", "F32", [0, 4], []),
            WrittenTensor("scalar", "F32", [], littleEndianBytes([Float(9)])),
        ])
        let checkpoint = try Checkpoint(directory: directory.path)
        #expect(try checkpoint.floatTensor("empty").count == 0)
        let scalar = try checkpoint.floatTensor("scalar")
        #expect(scalar.shape == [] && scalar.count == 1 && scalar.values == [9])
    }

    @Test func floatTensorRejectsIntegerTensor() throws {
        let directory = try singleFileDirectory([
            WrittenTensor("position_ids", "I64", [2], littleEndianBytes([Int64(0), 1]))
        ])
        let checkpoint = try Checkpoint(directory: directory.path)
        let error = try #require(loadError { try checkpoint.floatTensor("position_ids") })
        #expect(error == .wrongDType(tensor: "position_ids", expected: "F32, F16 or BF16", actual: "I64"))
        #expect(error.description.contains("position_ids"))
        #expect(checkpoint.storedDTypes == [.i64])
        #expect(checkpoint.totalParameterCount == 0)
    }

    @Test func floatTensorRejectsUnknownName() throws {
        let directory = try singleFileDirectory([WrittenTensor("w", "F32", [1], littleEndianBytes([Float(1)]))])
        let checkpoint = try Checkpoint(directory: directory.path)
        let error = try #require(loadError { try checkpoint.floatTensor("decoder.weight") })
        #expect(error == .missingTensor("decoder.weight"))
        #expect(error.description.contains("decoder.weight"))
        #expect(checkpoint.info("decoder.weight") == nil)
    }

    @Test func rejectsDirectoryWithoutModelFile() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        let expectedPath = directory.path + "/model.safetensors"
        #expect(error == .fileNotFound(path: expectedPath))
        #expect(error.description.contains(expectedPath))
    }

    @Test func rejectsEmptyModelFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write([], to: "model.safetensors")
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        #expect(error == .truncated(path: path, size: 0))
        #expect(error.description.contains(path))
    }

    @Test func rejectsDirectoryInPlaceOfModelFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.makeSubdirectory("model.safetensors")
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        guard case .unreadable(let reportedPath, _) = error else {
            Issue.record("expected .unreadable, got \(error)")
            return
        }
        #expect(reportedPath == path)
        #expect(error.description.contains(path))
    }

    @Test func reportsHeaderErrorsWithTheFilePath() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(SafeTensorsWriter.file(header: "not json"), to: "model.safetensors")
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        guard case .invalidHeader(let reportedPath, _) = error else {
            Issue.record("expected .invalidHeader, got \(error)")
            return
        }
        #expect(reportedPath == path)
        #expect(error.description.contains(path))
    }

    @Test func weightTensorCopiesGivenValues() {
        var values: [Float] = [1, 2, 3, 4, 5, 6]
        let tensor = WeightTensor(shape: [3, 2], values: values)
        values[0] = 100
        #expect(tensor.count == 6)
        #expect(tensor.values == [1, 2, 3, 4, 5, 6])
        #expect(WeightTensor(shape: [0], values: []).count == 0)
    }

    @Test func dtypeSizesMatchTheFormat() {
        let sizes = Dictionary(uniqueKeysWithValues: DType.allCases.map { ($0.rawValue, $0.byteSize) })
        #expect(sizes == ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1])
        #expect(DType.allCases.filter(\.isLoadableAsFloat32) == [.f32, .f16, .bf16])
    }
}
