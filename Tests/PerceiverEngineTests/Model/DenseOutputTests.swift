import Testing
@testable import PerceiverEngine

/// Optical flow and multimodal autoencoding decode only the output points asked for, in chunks whose size
/// does not change the result (issue #5). Parity with `transformers` is in `TransformersParityTests`.
@Suite struct DenseOutputTests {
    /// A fresh copy of fixture `name` with decoder chunks of `chunkRows` rows.
    func model(_ name: String, chunkRows: Int = 4096) throws -> PerceiverModel {
        try PerceiverModel.load(directory: Fixtures.modelDirectory(name),
                                options: ExecutionOptions(threads: 1, decoderChunkRows: chunkRows))
    }

    func expectClose(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, "\(what)", sourceLocation: sourceLocation)
        #expect(NaiveReference.maxAbsDifference(a.scalars, b.scalars) <= tolerance, "\(what)",
                sourceLocation: sourceLocation)
    }

    // MARK: optical flow

    @Test func flowAtChosenPixelsEqualsTheMatchingPixelsOfTheFullField() throws {
        let model = try model("flow")
        let patches = try Fixtures.load("flow_patches").inputs
        let full = try model.predict(patches).logits
        #expect(full.shape == [2, 6, 8, 2])
        let pixels = [[47, 0, 13, 8, 30, 30], [5, 41, 22, 7, 0, 1]]
        var chosen = patches
        chosen.outputPositions = IndexTensor(shape: [2, 6], values: pixels.flatMap { $0 })
        let sparse = try model.predict(chosen).logits
        #expect(sparse.shape == [2, 6, 2])
        var expected: [Float] = []
        for (b, row) in pixels.enumerated() {
            for p in row { expected += full.scalars[((b * 48 + p) * 2)..<((b * 48 + p) * 2 + 2)] }
        }
        expectClose(sparse, Tensor(shape: [2, 6, 2], scalars: expected), reorderingTolerance(model, full),
                    "sparse vs full")
    }

    @Test(arguments: [1, 5, 47, 96])
    func flowDecodedInChunksEqualsOneChunk(chunkRows: Int) throws {
        let inputs = try Fixtures.load("flow_patches").inputs
        let whole = try model("flow", chunkRows: 1 << 20).predict(inputs).logits
        let before = try model("flow", chunkRows: chunkRows)
        let chunked = try before.predict(inputs).logits
        expectClose(chunked, whole, reorderingTolerance(before, whole), "chunk \(chunkRows)")
        // The encoder ran once; only the decoder went chunk by chunk.
        #expect(before.counts.passes == 1)
    }

    @Test func framesArePatchedLikeTransformersPatches() throws {
        let frames = try Fixtures.load("flow_frames").inputs.frames!
        let patches = try Fixtures.load("flow_patches").inputs.flowPatches!
        let built = ImageOps.flowPatches(frames.scalars, batch: 2, frames: 2, channels: 3, height: 6, width: 8)
        #expect(built == patches.scalars)
    }

    @Test func flowRefusesInputsThatDoNotFit() throws {
        let model = try Fixtures.model("flow")
        var inputs = try Fixtures.load("flow_patches").inputs
        inputs.frames = try Fixtures.load("flow_frames").inputs.frames
        #expect(throws: InferenceError.badValue(tensor: "frames", reason: "give either inputs (patches) or frames, not both")) {
            try model.predict(inputs)
        }
        #expect(throws: InferenceError.missingInput("inputs (or frames)")) { try model.predict(ModelInputs()) }
        var small = ModelInputs()
        small.frames = Tensor(shape: [1, 2, 3, 6, 6], scalars: [Float](repeating: 0, count: 216))
        #expect(throws: InferenceError.badShape(tensor: "frames", expected: "(B, 2, 3, H, W) with H >= 6 and W >= 8 "
                                                + "(the model's train_size; larger frames are tiled)",
                                                actual: [1, 2, 3, 6, 6])) {
            try model.predict(small)
        }
        var outside = try Fixtures.load("flow_patches").inputs
        outside.outputPositions = IndexTensor(shape: [2, 1], values: [48, 0])
        #expect(throws: InferenceError.badValue(tensor: "output_positions", reason: "position 48 is outside 0..<48")) {
            try model.predict(outside)
        }
        var text = try Fixtures.load("flow_patches").inputs
        text.inputIDs = IndexTensor(shape: [1, 1], values: [7])
        #expect(throws: InferenceError.unexpectedInput("input_ids")) { try model.predict(text) }
    }

    @Test func flowRequestsShareOnePassAndEachGetsItsOwnPixels() throws {
        let model = try model("flow")
        let base = try Fixtures.load("flow_patches").inputs
        let one = Tensor(shape: [1, 2, 27, 6, 8], scalars: Array(base.flowPatches!.scalars.prefix(2 * 27 * 48)))
        var a = ModelInputs()
        a.flowPatches = one
        var b = a
        b.outputPositions = IndexTensor(shape: [1, 3], values: [9, 2, 40])
        var c = ModelInputs()
        c.frames = Tensor(shape: [1, 2, 3, 6, 8],
                          scalars: Array(try Fixtures.load("flow_frames").inputs.frames!.scalars.suffix(2 * 3 * 48)))
        let before = model.counts.passes
        let results = model.predict(batch: [a, b, c])
        #expect(model.counts.passes == before + 1)
        for (item, result) in zip([a, b, c], results) {
            let alone = try model.predict(item).logits
            expectClose(try result.get().logits, alone, reorderingTolerance(model, alone), "batched vs alone")
        }
    }

    // MARK: multimodal

    @Test func multimodalDefaultsToEveryOutputPoint() throws {
        let model = try model("multimodal")
        let fixture = try Fixtures.load("multimodal_full")
        var inputs = fixture.inputs
        inputs.label = nil   // transformers masks the label input out entirely; it is optional here
        let outputs = try model.predict(inputs)
        #expect(outputs.named.map(\.name) == ["audio", "image", "label"])
        #expect(outputs["audio"]?.shape == [2, 16] && outputs["image"]?.shape == [2, 512, 3])
        #expect(outputs["label"]?.shape == [2, 5])
        for expected in fixture.outputs {
            expectClose(try #require(outputs[expected.name]), expected.tensor, 1e-4, expected.name)
        }
    }

    @Test func multimodalSubsampledPointsEqualTheMatchingRowsOfTheFullOutput() throws {
        let model = try model("multimodal")
        let inputs = try Fixtures.load("multimodal_full").inputs
        let full = try model.predict(inputs)
        var chosen = inputs
        // Different points per batch element, which transformers (one index list for the batch) cannot do.
        let image = [[511, 0, 37], [300, 300, 5]]
        let audio = [[3, 1], [0, 2]]
        chosen.modalityPositions[.image] = IndexTensor(shape: [2, 3], values: image.flatMap { $0 })
        chosen.modalityPositions[.audio] = IndexTensor(shape: [2, 2], values: audio.flatMap { $0 })
        chosen.modalityPositions[.label] = IndexTensor(shape: [2, 0], values: [])
        let sparse = try model.predict(chosen)
        let fullImage = try #require(full["image"]).scalars, fullAudio = try #require(full["audio"]).scalars
        var expectedImage: [Float] = [], expectedAudio: [Float] = []
        for b in 0..<2 {
            for p in image[b] { expectedImage += fullImage[((b * 512 + p) * 3)..<((b * 512 + p) * 3 + 3)] }
            for p in audio[b] { expectedAudio += fullAudio[(b * 16 + p * 4)..<(b * 16 + p * 4 + 4)] }
        }
        expectClose(try #require(sparse["image"]), Tensor(shape: [2, 3, 3], scalars: expectedImage),
                    reorderingTolerance(model, try #require(full["image"])), "image")
        expectClose(try #require(sparse["audio"]), Tensor(shape: [2, 8], scalars: expectedAudio),
                    reorderingTolerance(model, try #require(full["audio"])), "audio")
        #expect(sparse["label"]?.shape == [2, 0, 5])
    }

    @Test(arguments: [1, 7, 100])
    func multimodalDecodedInChunksEqualsOneChunk(chunkRows: Int) throws {
        let inputs = try Fixtures.load("multimodal_full").inputs
        let whole = try model("multimodal", chunkRows: 1 << 20).predict(inputs)
        let chunkedModel = try model("multimodal", chunkRows: chunkRows)
        let chunked = try chunkedModel.predict(inputs)
        for output in whole.named {
            expectClose(try #require(chunked[output.name]), output.tensor, reorderingTolerance(chunkedModel, output.tensor),
                        "\(output.name), chunk \(chunkRows)")
        }
        // One encoder pass per request, its latents reused by every chunk of every modality.
        #expect(chunkedModel.counts.passes == 1)
    }

    @Test func multimodalRefusesInputsThatDoNotFit() throws {
        let model = try Fixtures.model("multimodal")
        let inputs = try Fixtures.load("multimodal_full").inputs
        var audio = inputs
        audio.audio = Tensor(shape: [2, 6, 1], scalars: [Float](repeating: 0, count: 12))
        #expect(throws: InferenceError.badShape(tensor: "audio", expected: "(B, S, 1) with S a positive multiple of 4",
                                                actual: [2, 6, 1])) { try model.predict(audio) }
        var oneFrame = inputs
        oneFrame.image = Tensor(shape: [2, 1, 3, 16, 16], scalars: [Float](repeating: 0, count: 2 * 768))
        #expect(throws: InferenceError.badShape(
            tensor: "image", expected: "(2, T, 3, H, W) with T >= 2 and H, W positive multiples of 4",
            actual: [2, 1, 3, 16, 16])) { try model.predict(oneFrame) }
        var outside = inputs
        outside.modalityPositions[.image] = IndexTensor(shape: [2, 1], values: [512, 0])
        #expect(throws: InferenceError.badValue(tensor: "output_positions_image", reason: "position 512 is outside 0..<512")) {
            try model.predict(outside)
        }
        var missing = inputs
        missing.audio = nil
        #expect(throws: InferenceError.missingInput("audio")) { try model.predict(missing) }
        var generic = inputs
        generic.outputPositions = IndexTensor(shape: [2, 1], values: [0, 0])
        #expect(throws: InferenceError.unexpectedInput("output_positions")) { try model.predict(generic) }
    }

    @Test func multimodalRequestsInABatchEachRunTheirOwnPass() throws {
        let model = try model("multimodal")
        let inputs = try Fixtures.load("multimodal_full").inputs
        var sparse = inputs
        sparse.modalityPositions[.image] = IndexTensor(shape: [2, 2], values: [1, 2, 3, 4])
        let before = model.counts.passes
        let results = model.predict(batch: [inputs, sparse])
        #expect(model.counts.passes == before + 2)
        #expect(try results[0].get() == model.predict(inputs))
        #expect(try results[1].get()["image"]?.shape == [2, 2, 3])
    }
}
