import Testing
@testable import PerceiverEngine

/// `estimatedPassBytes`: from shapes alone, growing with what drives a pass's memory, and zero work done.
/// (Its bound on real resident memory is checked on the daemon, in `MemoryBudgetTests`.)
@Suite struct PassCostTests {
    static func fourier(_ side: Int, batch: Int = 1) -> ModelInputs {
        ModelInputs(pixelValues: Tensor(shape: [batch, 3, side, side], scalars: [Float](repeating: 0, count: batch * 3 * side * side)))
    }

    @Test func theEstimateGrowsWithTheInputRowsAndTheBatch() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("fourier"),
                                            options: ExecutionOptions(threads: 1))
        let small = model.estimatedPassBytes(Self.fourier(16))
        let large = model.estimatedPassBytes(Self.fourier(64))
        let batched = model.estimatedPassBytes(Self.fourier(64, batch: 4))
        #expect(small > 0 && large > small && batched > large)
        // Sixteen times the rows: the per-row terms (the (B, M, C) input, keys and values) dominate.
        #expect(large - small >= 15 * 16 * 16 * model.preprocessor.numChannels * 4 * 3)
        #expect(model.counts.passes == 0, "estimating computes nothing")
    }

    @Test func explicitOutputRowsCountForTheDecoder() throws {
        let model = try Fixtures.model("flow")
        var inputs = try Fixtures.load("flow_patches").inputs
        let all = model.estimatedPassBytes(inputs)
        inputs.outputPositions = IndexTensor(shape: [2, 1], values: [0, 1])
        let few = model.estimatedPassBytes(inputs)
        #expect(few > 0 && few <= all)
    }

    @Test func incompleteInputsCostOnlyThemselves() throws {
        let model = try Fixtures.model("mlm")
        #expect(model.estimatedPassBytes(ModelInputs()) == 0)
    }
}

/// The Fourier grid cache is bounded in bytes as well as entries.
@Suite struct FourierGridCacheBoundTests {
    @Test func distinctSizesNeverHoldMoreThanTheByteBound() {
        let cache = FourierGridCache(maxResolution: [224, 224], numBands: 4, capacity: 8, maxBytes: 200_000)
        for side in [20, 30, 40, 50, 60] {
            _ = cache.features(height: side, width: side)
            #expect(cache.heldBytes <= 200_000, "after \(side) x \(side)")
        }
        // A grid larger than the bound is computed, not kept.
        let big = cache.features(height: 100, width: 100)
        #expect(big.count == 100 * 100 * cache.channels)
        #expect(cache.heldBytes <= 200_000)
    }
}
