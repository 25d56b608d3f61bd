import Testing
@testable import PerceiverEngine

/// Arbitrary output queries and batching: the properties clients rely on, checked on the fixture models.
@Suite struct OutputQueryTests {
    let tokenizer = ByteTokenizer()

    /// Each input alone equals its rows of one padded, masked batch (max abs <= 1e-5).
    @Test func paddedBatchEqualsEachInputAlone() throws {
        let model = try Fixtures.model("mlm")
        let texts = ["hi", "a cat [MASK][MASK] mat", "quick fox [MASK]umps", "x"]
        let encoded = texts.map { tokenizer.encode($0) }
        let length = encoded.map(\.count).max()!
        var ids: [Int] = [], mask: [Int] = []
        for e in encoded {
            ids += e + [Int](repeating: 0, count: length - e.count)
            mask += [Int](repeating: 1, count: e.count) + [Int](repeating: 0, count: length - e.count)
        }
        let batch = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [texts.count, length], values: ids),
                                                  attentionMask: IndexTensor(shape: [texts.count, length], values: mask)))
        let vocabulary = batch.logits.shape[2]
        for (b, e) in encoded.enumerated() {
            let alone = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, e.count], values: e)))
            let start = b * length * vocabulary
            let rows = Array(batch.logits.scalars[start..<(start + e.count * vocabulary)])
            #expect(NaiveReference.maxAbsDifference(rows, alone.logits.scalars) <= 1e-5, "\(texts[b])")
        }
    }

    /// `output_positions` gives exactly the matching rows of the full decode, in the order asked.
    @Test func outputPositionsEqualRowsOfTheFullDecode() throws {
        let model = try Fixtures.model("mlm")
        let ids = tokenizer.encode("one [MASK]wo thr[MASK]e")
        let full = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids))).logits
        let positions = [ids.count - 2, 0, 5, 5]
        let subset = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids),
                                                   outputPositions: IndexTensor(shape: [1, 4], values: positions))).logits
        let v = full.shape[2]
        #expect(subset.shape == [1, 4, v])
        for (row, position) in positions.enumerated() {
            let expected = Array(full.scalars[(position * v)..<((position + 1) * v)])
            let actual = Array(subset.scalars[(row * v)..<((row + 1) * v)])
            #expect(NaiveReference.maxAbsDifference(actual, expected) <= 1e-5)
        }
    }

    /// Positions beyond the input's length are still valid decoder queries (the table has
    /// max_position_embeddings rows), as in transformers, which decodes all of them.
    @Test func positionsBeyondTheInputLengthAreDecoded() throws {
        let model = try Fixtures.model("mlm")
        let ids = tokenizer.encode("ab")
        let logits = try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids),
                                                   outputPositions: IndexTensor(shape: [1, 1], values: [23]))).logits
        #expect(logits.shape == [1, 1, 262])
    }

    /// The decoder does work only for the queries asked for: K rows in, K rows out.
    @Test func decoderComputesOnlyTheRequestedQueries() throws {
        let model = try Fixtures.model("mlm")
        let ids = tokenizer.encode("twelve bytes")
        let inputs = ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids),
                                 outputPositions: IndexTensor(shape: [1, 2], values: [3, 4]))
        try model.context.run { () throws in
            let prepared = try model.preprocessor(inputs, context: model.context)
            let queries = try model.decoder.queries(for: inputs, side: .none(rowCount: prepared.rows), batch: 1,
                                                    context: model.context)
            #expect(queries.count == 2 && queries.values.count == 2 * model.decoder.queryChannels)
            let z = try model.encoder(prepared, context: model.context)
            let kv = try model.decoder.layer.project(z, batch: 1, rows: model.encoder.numLatents, bias: nil,
                                                     context: model.context)
            let decoded = try model.decoder.decode(queries, keyValues: kv, chunkRows: 4096, head: ClassificationHead(),
                                                   context: model.context)
            #expect(decoded.count == 2 * model.decoder.outputChannels)
        }
    }

    /// Caller queries equal to the model's own query rows reproduce the default decode.
    @Test func customQueriesEqualToTheTableReproduceTheDefault() throws {
        let model = try Fixtures.model("seqcls")
        let ids = tokenizer.encode("some text")
        let table = Array(UnsafeBufferPointer(start: model.decoder.queryTable!.data, count: model.decoder.queryTable!.count))
        let base = ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids))
        var custom = base
        custom.queries = Tensor(shape: [1, 1, table.count], scalars: table)
        let expected = try model.predict(base).logits
        let actual = try model.predict(custom).logits
        #expect(actual.shape == [1, 1, expected.shape[1]])
        #expect(NaiveReference.maxAbsDifference(actual.scalars, expected.scalars) <= 1e-6)
    }

    @Test func primitivesAreReusedAcrossCallsOfOneShape() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("fourier"),
                                            options: ExecutionOptions(threads: 1))
        let inputs = ModelInputs(pixelValues: Tensor(shape: [1, 3, 8, 8], scalars: (0..<192).map { Float($0) / 192 }))
        let first = try model.predict(inputs)
        let count = model.primitiveCount
        for _ in 0..<3 { #expect(try model.predict(inputs) == first) }
        #expect(model.primitiveCount == count)
    }

    @Test func tokenizerReproducesTheFixtureInputIDs() throws {
        let fixture = try Fixtures.load("mlm_padded_batch")
        let ids = fixture.inputs.inputIDs!
        for (b, text) in fixture.text.enumerated() {
            let encoded = tokenizer.encode(text)
            let row = Array(ids.values[(b * ids.shape[1])..<(b * ids.shape[1] + encoded.count)])
            #expect(row == encoded, "\(text)")
        }
    }
}
