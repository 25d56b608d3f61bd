import Testing
@testable import PerceiverEngine

/// Encode once, decode many (issue #20): `encode` then `decode` gives the numbers of the forward pass, a decode
/// runs no encoder, latents travel as a tensor, and batches mix requests with and without latents.
@Suite struct LatentsTests {
    /// A fresh copy of fixture `name`: its engine counts belong to this test alone.
    func freshModel(_ name: String) throws -> PerceiverModel {
        try PerceiverModel.load(directory: Fixtures.modelDirectory(name), options: ExecutionOptions(threads: 1))
    }

    /// Every fixture case but the bf16 one (that model needs native bf16 matmuls; its decode path is the same)
    /// and the tiled optical-flow ones (frames larger than train_size are one encode per tile, not one latents).
    static let cases = Fixtures.caseNames.filter { !$0.contains("bf16") && !$0.hasPrefix("flow_tiled") }

    /// The decode of a case's latents equals its forward pass. Bit for bit: the decoder reads the same latents
    /// and builds the same queries with the same primitives. The one exception is optical flow at chosen
    /// pixels: the cached latents keep the frames, not the 235 MB preprocessed array, so the chosen pixels'
    /// rows are rebuilt by `conv_after_patches` over those rows alone, a shorter matmul whose summation order
    /// oneDNN may block differently; that adds one product to the decoder's reordering bound.
    @Test(arguments: cases)
    func decodeOfEncodedLatentsEqualsTheForwardPass(name: String) throws {
        let fixture = try Fixtures.load(name)
        let model = try Fixtures.model(fixture.model)
        let forward = try model.predict(fixture.inputs)
        let latents = try model.encode(fixture.inputs)
        #expect(latents.batch == forward.named[0].tensor.shape[0])
        let decoded = try model.decode(latents, selecting: fixture.inputs)
        #expect(decoded.named.map(\.name) == forward.named.map(\.name))
        for (actual, expected) in zip(decoded.named, forward.named) {
            #expect(actual.tensor.shape == expected.tensor.shape, "\(name) \(actual.name)")
            if fixture.model == "flow" && fixture.inputs.outputPositions != nil {
                let tolerance = reorderingTolerance(model, expected.tensor, decoderProducts: 10)
                #expect(NaiveReference.maxAbsDifference(actual.tensor.scalars, expected.tensor.scalars) <= tolerance)
            } else {
                #expect(actual.tensor.scalars == expected.tensor.scalars, "\(name) \(actual.name)")
            }
        }
    }

    /// One encoder pass, then any number of decodes that count none.
    @Test func decodesRunNoEncoderPass() throws {
        let model = try freshModel("mlm")
        let ids = ByteTokenizer().encode("once, [MASK]ecode many")
        let latents = try model.encode(ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids)))
        #expect(model.counts == EngineCounts(passes: 1, rows: 1))
        for position in [0, 7, ids.count - 1] {
            let logits = try model.decode(latents, selecting: ModelInputs(
                outputPositions: IndexTensor(shape: [1, 1], values: [position]))).logits
            #expect(logits.shape == [1, 1, 262])
        }
        #expect(try model.decode(latents).logits.shape == [1, ids.count, 262])
        #expect(model.counts == EngineCounts(passes: 1, rows: 1))
    }

    /// The latents as a tensor (what a client holds) decode like the latents themselves: a masked LM's given
    /// positions bit for bit; an optical-flow pair's chosen pixels from its frames, sent again beside the latents.
    @Test func latentsSentBackAsATensorDecodeLikeTheOriginal() throws {
        let mlm = try Fixtures.model("mlm")
        let text = try Fixtures.load("mlm_positions").inputs
        let positions = ModelInputs(outputPositions: text.outputPositions)
        let tensor = try mlm.encode(text).tensor
        #expect(tensor.shape == [text.inputIDs!.shape[0], mlm.config.numLatents, mlm.config.dLatents])
        let fromTensor = try mlm.decode(try mlm.latents(tensor, for: positions), selecting: positions).logits
        #expect(fromTensor.scalars == (try mlm.predict(text)).logits.scalars)

        let flow = try Fixtures.model("flow")
        let pair = try Fixtures.load("flow_frames").inputs
        var chosen = ModelInputs(outputPositions: IndexTensor(shape: [2, 3], values: [0, 17, 47, 9, 9, 30]))
        chosen.frames = pair.frames
        let flowTensor = try flow.encode(pair).tensor
        let expected = try flow.predict(chosen).logits
        let decoded = try flow.decode(try flow.latents(flowTensor, for: chosen), selecting: chosen).logits
        #expect(decoded.shape == [2, 3, 2])
        #expect(NaiveReference.maxAbsDifference(decoded.scalars, expected.scalars)
                <= reorderingTolerance(flow, expected, decoderProducts: 10))
    }

    /// What latents alone cannot say is asked for by name; a tensor of another model's shape is refused.
    @Test func latentsWithoutWhatTheDecoderNeedsAreRefused() throws {
        let mlm = try Fixtures.model("mlm")
        let (n, d) = (mlm.config.numLatents, mlm.config.dLatents)
        let zeros = Tensor(shape: [1, n, d], scalars: [Float](repeating: 0, count: n * d))
        #expect(throws: InferenceError.missingInput(
            "output_positions or queries (latents alone do not say how long the input was)")) {
            try mlm.decode(try mlm.latents(zeros, for: ModelInputs()))
        }
        let wrong = Tensor(shape: [1, n + 1, d], scalars: [Float](repeating: 0, count: (n + 1) * d))
        #expect(throws: InferenceError.badShape(tensor: "latents", expected: "(B, \(n), \(d))", actual: [1, n + 1, d])) {
            try mlm.latents(wrong, for: ModelInputs())
        }
        let flow = try Fixtures.model("flow")
        let (fn, fd) = (flow.config.numLatents, flow.config.dLatents)
        let flowZeros = Tensor(shape: [1, fn, fd], scalars: [Float](repeating: 0, count: fn * fd))
        #expect(throws: InferenceError.self) {
            try flow.decode(try flow.latents(flowZeros, for: ModelInputs(
                outputPositions: IndexTensor(shape: [1, 1], values: [0]))))
        }
    }

    /// The latents an optical-flow pass keeps hold its frames, not the preprocessed array the decoder read.
    @Test func flowLatentsKeepTheFramesNotThePreprocessedRows() throws {
        let flow = try Fixtures.model("flow")
        let pair = try Fixtures.load("flow_frames").inputs
        let latents = try flow.encode(pair)
        let own = latents.values.count * 4
        #expect(latents.byteCount == own + pair.frames!.scalars.count * 4)
    }

    /// Requests with latents join a pass of requests without: the encoder runs once, over the latter only, and
    /// every request gets what it would alone (within the reordering bound of a longer batch).
    @Test func decodeOnlyRequestsBatchWithFullOnes() throws {
        let model = try freshModel("mlm")
        let tokenizer = ByteTokenizer()
        func text(_ string: String, positions: [Int]? = nil) -> ModelInputs {
            let ids = tokenizer.encode(string)
            return ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids),
                               outputPositions: positions.map { IndexTensor(shape: [1, $0.count], values: $0) })
        }
        let cached = text("the cached one [MASK]")
        let latents = try model.encode(cached)
        let selection = ModelInputs(outputPositions: IndexTensor(shape: [1, 2], values: [3, 15]))
        let requests = [PassRequest(inputs: text("first [MASK]")),
                        PassRequest(inputs: selection, latents: latents),
                        PassRequest(inputs: text("third, [MASK]onger", positions: [0, 2]))]
        let before = model.counts
        let results = model.predict(batch: requests)
        #expect(model.counts.passes == before.passes + 1)
        #expect(model.counts.rows == before.rows + 2)
        let expected = [try model.predict(requests[0].inputs), try model.decode(latents, selecting: selection),
                        try model.predict(requests[2].inputs)]
        for (index, (result, alone)) in zip(results, expected).enumerated() {
            let pass = try result.get()
            #expect(pass.outputs.logits.shape == alone.logits.shape)
            #expect(NaiveReference.maxAbsDifference(pass.outputs.logits.scalars, alone.logits.scalars)
                    <= reorderingTolerance(model, alone.logits), "request \(index)")
            #expect((pass.latents == nil) == (index == 1), "only encoded requests return latents")
        }
    }

    /// Multimodal requests run one at a time; one with latents skips its encoder there too.
    @Test func multimodalDecodeOnlyRequestsSkipTheEncoder() throws {
        let model = try freshModel("multimodal")
        let fixture = try Fixtures.load("multimodal_subsampled")
        let latents = try model.encode(fixture.inputs)
        var selection = ModelInputs()
        for modality in Modality.allCases {
            selection.modalityPositions[modality] = fixture.inputs.modalityPositions[modality]
        }
        let passes = model.counts.passes
        let results = model.predict(batch: [PassRequest(inputs: selection, latents: latents)])
        #expect(model.counts.passes == passes)
        let outputs = try results[0].get().outputs
        let forward = try model.predict(fixture.inputs)
        for (actual, expected) in zip(outputs.named, forward.named) {
            #expect(actual.tensor.scalars == expected.tensor.scalars, "\(actual.name)")
        }
    }
}
