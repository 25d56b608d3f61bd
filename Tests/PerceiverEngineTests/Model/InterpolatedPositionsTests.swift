import Testing
@testable import PerceiverEngine

/// `interpolate_pos_encoding` on the Learned classifier beyond the parity cases (learned_interpolated_*):
/// refusals, the model-wide option, the cache's bound and the pass estimate.
@Suite struct InterpolatedPositionsTests {
    static func pixels(_ b: Int, _ h: Int, _ w: Int) -> Tensor {
        Tensor(shape: [b, 3, h, w], scalars: (0..<(b * 3 * h * w)).map { Float($0 % 7) * 0.1 - 0.3 })
    }

    @Test func otherSizesNeedTheFlag() throws {
        let model = try Fixtures.model("learned")
        #expect(model.interpolatesPositionEncoding)
        #expect(try !Fixtures.model("fourier").interpolatesPositionEncoding)
        var inputs = ModelInputs(pixelValues: Self.pixels(1, 6, 10))
        #expect(throws: InferenceError.badShape(tensor: "pixel_values", expected: "(B, 3, 8, 8)", actual: [1, 3, 6, 10])) {
            try model.predict(inputs)
        }
        inputs.interpolatePositionEncoding = true
        #expect(try model.predict(inputs).logits.shape == [1, 5])
    }

    @Test func theFlagAtImageSizeChangesNothing() throws {
        let model = try Fixtures.model("learned")
        var inputs = ModelInputs(pixelValues: Self.pixels(2, 8, 8))
        let plain = try model.predict(inputs)
        inputs.interpolatePositionEncoding = true
        #expect(try model.predict(inputs) == plain)
    }

    @Test func theModelOptionInterpolatesEveryRequest() throws {
        var options = ExecutionOptions(threads: 1)
        options.interpolatePositionEncoding = true
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("learned"), options: options)
        #expect(model.inputSpecs[0].shape == [-1, 3, -1, -1])
        let inputs = ModelInputs(pixelValues: Self.pixels(1, 12, 12))
        var flagged = inputs
        flagged.interpolatePositionEncoding = true
        #expect(try model.predict(inputs) == Fixtures.model("learned").predict(flagged))
        #expect(throws: ModelLoadError.self) {
            try PerceiverModel.load(directory: Fixtures.modelDirectory("fourier"), options: options)
        }
    }

    @Test func thePassEstimateGrowsWithTheSize() throws {
        let model = try Fixtures.model("learned")
        var small = ModelInputs(pixelValues: Self.pixels(1, 8, 8))
        var large = ModelInputs(pixelValues: Self.pixels(1, 40, 40))
        small.interpolatePositionEncoding = true
        large.interpolatePositionEncoding = true
        // 25 times the rows: the inputs, conv features, interpolated table and the cross-attention's keys.
        #expect(model.estimatedPassBytes(large) > model.estimatedPassBytes(small) + 1600 * 512 * 4)
    }

    @Test func theCacheIsBoundedInBytes() {
        let cache = BoundedTableCache(capacity: 8, maxBytes: 1000)
        for side in 1...12 {
            let table = cache.table([side]) { [Float](repeating: 1, count: side * 10) }
            #expect(table.count == side * 10)
            #expect(cache.heldBytes <= 1000, "side \(side)")
        }
        // A table over the bound is computed and not kept.
        _ = cache.table([99]) { [Float](repeating: 0, count: 300) }
        #expect(cache.heldBytes <= 1000)
    }
}
