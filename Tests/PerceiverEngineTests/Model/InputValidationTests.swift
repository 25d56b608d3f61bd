import Testing
@testable import PerceiverEngine

/// Bad inputs give an `InferenceError` naming the tensor, never a crash.
@Suite struct InputValidationTests {
    static func error(_ model: String, _ inputs: ModelInputs) throws -> InferenceError? {
        let loaded = try Fixtures.model(model)
        do {
            _ = try loaded.predict(inputs)
            return nil
        } catch {
            return error
        }
    }

    static let ids = IndexTensor(shape: [1, 3], values: [4, 10, 5])

    @Test func namesEachBadTextInput() throws {
        #expect(try Self.error("mlm", ModelInputs()) == .missingInput("input_ids"))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: IndexTensor(shape: [3], values: [1, 2, 3])))
                == .badShape(tensor: "input_ids", expected: "(B, L) with 1 <= L <= 24", actual: [3]))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: IndexTensor(shape: [1, 25], values: .init(repeating: 6, count: 25))))
                == .badShape(tensor: "input_ids", expected: "(B, L) with 1 <= L <= 24", actual: [1, 25]))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: IndexTensor(shape: [1, 2], values: [4, 262])))
                == .badValue(tensor: "input_ids", reason: "token id 262 is outside 0..<262"))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, attentionMask: IndexTensor(shape: [1, 2], values: [1, 1])))
                == .badShape(tensor: "attention_mask", expected: "[1, 3] like input_ids", actual: [1, 2]))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, attentionMask: IndexTensor(shape: [1, 3], values: [1, 2, 0])))
                == .badValue(tensor: "attention_mask", reason: "values must be 0 or 1"))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, pixelValues: Tensor(shape: [1], scalars: [0])))
                == .unexpectedInput("pixel_values"))
    }

    @Test func namesBadQueriesAndPositions() throws {
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, outputPositions: IndexTensor(shape: [1, 1], values: [24])))
                == .badValue(tensor: "output_positions", reason: "position 24 is outside 0..<24"))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, outputPositions: IndexTensor(shape: [2, 1], values: [0, 1])))
                == .badShape(tensor: "output_positions", expected: "(1, K)", actual: [2, 1]))
        #expect(try Self.error("mlm", ModelInputs(inputIDs: Self.ids, queries: Tensor(shape: [1, 2, 31], scalars: .init(repeating: 0, count: 62))))
                == .badShape(tensor: "queries", expected: "(1, O, 32)", actual: [1, 2, 31]))
        #expect(try Self.error("learned", ModelInputs(pixelValues: Tensor(shape: [1, 3, 8, 8], scalars: .init(repeating: 0, count: 192)),
                                                     outputPositions: IndexTensor(shape: [1, 1], values: [1])))
                == .badValue(tensor: "output_positions", reason: "position 1 is outside 0..<1"))
    }

    @Test func namesBadImages() throws {
        #expect(try Self.error("learned", ModelInputs(pixelValues: Tensor(shape: [1, 3, 4, 4], scalars: .init(repeating: 0, count: 48))))
                == .badShape(tensor: "pixel_values", expected: "(B, 3, 8, 8)", actual: [1, 3, 4, 4]))
        #expect(try Self.error("fourier", ModelInputs(pixelValues: Tensor(shape: [1, 1, 4, 4], scalars: .init(repeating: 0, count: 16))))
                == .badShape(tensor: "pixel_values", expected: "(B, 3, H, W)", actual: [1, 1, 4, 4]))
        #expect(try Self.error("conv", ModelInputs(pixelValues: Tensor(shape: [1, 3, 2, 2], scalars: .init(repeating: 0, count: 12))))
                == .badShape(tensor: "pixel_values", expected: "(B, 3, H, W) with H, W >= 5", actual: [1, 3, 2, 2]))
        #expect(try Self.error("conv", ModelInputs(inputIDs: Self.ids)) == .unexpectedInput("input_ids"))
    }
}
