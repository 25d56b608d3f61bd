import Testing
@testable import PerceiverEngine

/// Requests of different shapes share one forward pass and each gets what it would get alone (issue #4).
@Suite struct BatchInvarianceTests {
    let tokenizer = ByteTokenizer()

    /// A fresh copy of fixture `name`, so no other test's passes show in its counts.
    func model(_ name: String) throws -> PerceiverModel {
        try PerceiverModel.load(directory: Fixtures.modelDirectory(name), options: ExecutionOptions(threads: 1))
    }

    func ids(_ texts: [String]) -> IndexTensor {
        let encoded = texts.map { tokenizer.encode($0) }
        precondition(Set(encoded.map(\.count)).count == 1, "rows of one request must have one length")
        return IndexTensor(shape: [texts.count, encoded[0].count], values: encoded.flatMap { $0 })
    }

    /// Runs `items` batched and alone: `passes` forward passes for the batch (one unless some must run apart),
    /// equal outputs (max abs <= 1e-5), equal shapes.
    func expectBatchEqualsAlone(_ model: PerceiverModel, _ items: [ModelInputs], passes: Int = 1,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = model.counts
        let batched = model.predict(batch: items)
        let after = model.counts
        #expect(after.passes == before.passes + passes, "forward passes for the batch", sourceLocation: sourceLocation)
        #expect(after.rows == before.rows + items.map(model.rowCount(of:)).reduce(0, +), sourceLocation: sourceLocation)
        for (index, (item, result)) in zip(items, batched).enumerated() {
            let alone = try model.predict(item).logits
            let together = try result.get().logits
            #expect(together.shape == alone.shape, "item \(index)", sourceLocation: sourceLocation)
            #expect(NaiveReference.maxAbsDifference(together.scalars, alone.scalars) <= 1e-5, "item \(index)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func mixedLengthsQueriesAndPositionsOnTheMaskedLM() throws {
        let model = try model("mlm")
        let e = model.decoder.queryChannels
        // A request that brings its own padding: row 1 is padded to row 0's length.
        let (first, second) = (tokenizer.encode("a cat sat"), tokenizer.encode("hi"))
        let pad = first.count - second.count
        let padded = IndexTensor(shape: [2, first.count], values: first + second + [Int](repeating: 0, count: pad))
        let maskValues = [Int](repeating: 1, count: first.count + second.count) + [Int](repeating: 0, count: pad)
        let items = [
            ModelInputs(inputIDs: ids(["x"])),
            ModelInputs(inputIDs: ids(["the quick br[MASK]wn fox"])),
            ModelInputs(inputIDs: ids(["two rows", "of eight"]),
                        outputPositions: IndexTensor(shape: [2, 3], values: [7, 0, 3, 1, 1, 20])),
            ModelInputs(inputIDs: ids(["queries"]),
                        queries: Tensor(shape: [1, 5, e], scalars: (0..<(5 * e)).map { Float(($0 * 37) % 11) / 5 - 1 })),
            ModelInputs(inputIDs: padded, attentionMask: IndexTensor(shape: [2, first.count], values: maskValues)),
        ]
        try expectBatchEqualsAlone(model, items)
    }

    @Test func classifierDefaultQueryBesideCustomQueriesAndPositions() throws {
        let model = try model("seqcls")
        let e = model.decoder.queryChannels
        let items = [
            ModelInputs(inputIDs: ids(["good movie"])),
            ModelInputs(inputIDs: ids(["this was bad, truly", "a fine film, really"])),
            ModelInputs(inputIDs: ids(["ok"]), outputPositions: IndexTensor(shape: [1, 3], values: [0, 0, 0])),
            ModelInputs(inputIDs: ids(["custom"]),
                        queries: Tensor(shape: [1, 2, e], scalars: (0..<(2 * e)).map { Float($0 % 7) / 3 - 1 })),
        ]
        try expectBatchEqualsAlone(model, items)
    }

    @Test func imagesOfDifferentSizesShareAPass() throws {
        for name in ["fourier", "conv"] {
            let model = try model(name)
            func image(_ b: Int, _ h: Int, _ w: Int) -> Tensor {
                let count = b * 3 * h * w
                return Tensor(shape: [b, 3, h, w], scalars: (0..<count).map { Float(($0 * 13) % 17) / 8 - 1 })
            }
            let items = name == "fourier"
                ? [ModelInputs(pixelValues: image(2, 8, 8)), ModelInputs(pixelValues: image(1, 6, 10)),
                   ModelInputs(pixelValues: image(1, 8, 8), outputPositions: IndexTensor(shape: [1, 2], values: [0, 0]))]
                : [ModelInputs(pixelValues: image(2, 16, 16)), ModelInputs(pixelValues: image(1, 15, 17))]
            try expectBatchEqualsAlone(model, items)
        }
    }

    @Test func aBadRequestFailsAloneAndTheRestStillShareOnePass() throws {
        let model = try model("mlm")
        let good = [ModelInputs(inputIDs: ids(["one"])), ModelInputs(inputIDs: ids(["and two"]))]
        let bad = ModelInputs(inputIDs: IndexTensor(shape: [1, 2], values: [5, 9999]))
        let before = model.counts
        let results = model.predict(batch: [good[0], bad, good[1]])
        #expect(model.counts.passes == before.passes + 1)
        #expect(model.counts.rows == before.rows + 2)
        guard case .failure(.badValue(tensor: "input_ids", _)) = results[1] else {
            Issue.record("expected the bad token to fail alone, got \(results[1])")
            return
        }
        for (index, item) in [(0, good[0]), (2, good[1])] {
            let together = try results[index].get().logits
            #expect(NaiveReference.maxAbsDifference(together.scalars, try model.predict(item).logits.scalars) <= 1e-5)
        }
    }

    /// A row whose mask hides every key attends uniformly to its own keys (as transformers does); padding would
    /// change that, so such a request runs in a pass of its own and still equals running alone.
    @Test func aFullyMaskedRowRunsInItsOwnPass() throws {
        let model = try model("mlm")
        let tokens = ids(["masked"])
        let masked = ModelInputs(inputIDs: tokens,
                                 attentionMask: IndexTensor(shape: tokens.shape, values: tokens.values.map { _ in 0 }))
        let items = [ModelInputs(inputIDs: ids(["a longer text"])), masked, ModelInputs(inputIDs: ids(["x"]))]
        try expectBatchEqualsAlone(model, items, passes: 2)
    }

    /// One very long request does not make short ones pay for its padding: it runs in a pass of its own.
    @Test func aRequestThatWouldMoreThanDoubleTheWorkRunsInItsOwnPass() throws {
        let model = try model("mlm")
        let long = ModelInputs(inputIDs: ids(["a long text of twenty"]),
                               outputPositions: IndexTensor(shape: [1, 200], values: (0..<200).map { $0 % 24 }))
        let items = [ModelInputs(inputIDs: ids(["ab"])), long, ModelInputs(inputIDs: ids(["cd"]))]
        try expectBatchEqualsAlone(model, items, passes: 2)
    }

    @Test func anInstanceSharesTheModelsWeightsAndCounts() throws {
        let model = try model("mlm")
        let instance = try ModelInstance(model: model, threads: 1)
        let item = ModelInputs(inputIDs: ids(["shared weights"]))
        let before = model.counts
        let fromInstance = try instance.predict(item)
        #expect(try fromInstance == model.predict(item))
        #expect(model.counts.passes == before.passes + 2)
    }
}
