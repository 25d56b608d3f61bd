import Testing
@testable import PerceiverEngine

/// Optical flow on frames larger than `train_size` (issue #22): the colab's tile grid (clamped, repeats dropped),
/// its weights, the tiles chosen pixels need, and the engine's tiled pass against one that runs every tile
/// alone. Parity with the colab's own tiling around transformers is `TransformersParityTests` (`flow_tiled*`).
@Suite struct FlowTilingTests {
    /// The colab's `range(0, size, train - 20)` with the last start flush with the edge, at the published
    /// geometry (368 x 496) and at sizes where a start before the last passes the edge.
    @Test func tileStartsFollowTheColab() {
        #expect(FlowTiling.starts(length: 368, tile: 368) == [0])        // colab: [0, 0], one tile twice
        #expect(FlowTiling.starts(length: 720, tile: 368) == [0, 348, 352])
        #expect(FlowTiling.starts(length: 1280, tile: 496) == [0, 476, 784])
        #expect(FlowTiling.starts(length: 700, tile: 368) == [0, 332])   // colab: [0, 348, 332], 348 past the edge
        #expect(FlowTiling.starts(length: 369, tile: 368) == [0, 1])
        #expect(FlowTiling.starts(length: 716, tile: 368) == [0, 348])   // colab: [0, 348, 348]
        #expect(FlowTiling.starts(length: 37, tile: 24) == [0, 4, 8, 12, 13])
        for length in 368...1500 {
            let starts = FlowTiling.starts(length: length, tile: 368)
            #expect(starts.allSatisfy { $0 >= 0 && $0 + 368 <= length }, "\(length): \(starts)")
            #expect(starts.last == length - 368 && starts.first == 0, "\(length)")
            // Every row is covered: no gap between one tile's end and the next one's start.
            #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 > $0 && $1 <= $0 + 368 - 20 || $1 == length - 368 })
        }
    }

    @Test func weightsAreTheDistanceToTheTileEdge() throws {
        let tiling = try FlowTiling(framesShape: [1, 2, 3, 30, 40], tileHeight: 24, tileWidth: 32)
        #expect(tiling.weight(y: 0, x: 0) == 1)
        #expect(tiling.weight(y: 23, x: 31) == 1)
        #expect(tiling.weight(y: 11, x: 15) == 12)   // min(min(16, 17), min(12, 13))
        #expect(tiling.weight(y: 5, x: 30) == 2)
        #expect(tiling.tiles.count == 3 * 2)    // rows 0, 4, 6; columns 0, 8
    }

    @Test func framesSmallerThanTrainSizeAreRefusedWithTheMinimum() {
        #expect(throws: InferenceError.badShape(
            tensor: "frames", expected: "(B, 2, 3, H, W) with H >= 24 and W >= 32 (the model's train_size; larger "
                + "frames are tiled)", actual: [1, 2, 3, 23, 40])) {
            try FlowTiling(framesShape: [1, 2, 3, 23, 40], tileHeight: 24, tileWidth: 32)
        }
        // A train_size the 20-pixel overlap does not fit in cannot be tiled (the colab refuses it too).
        #expect(throws: InferenceError.self) { try FlowTiling(framesShape: [1, 2, 3, 7, 8], tileHeight: 6, tileWidth: 8) }
        #expect((try? FlowTiling(framesShape: [1, 2, 3, 6, 8], tileHeight: 6, tileWidth: 8))?.isSingleTile == true)
    }

    /// Chosen pixels go to the tiles that hold them, at their place in the tile; tiles holding none do not run.
    @Test func chosenPixelsNeedOnlyTheirTiles() throws {
        // 30 x 60 with 24 x 32 tiles: rows 0, 4, 6; columns 0, 12, 24, 28.
        let tiling = try FlowTiling(framesShape: [1, 2, 3, 30, 60], tileHeight: 24, tileWidth: 32)
        #expect(tiling.tiles.count == 3 * 4)
        let corner = IndexTensor(shape: [1, 1], values: [0])
        let jobs = try tiling.jobs(positions: corner)
        #expect(jobs.map(\.tile) == [0])
        #expect(jobs[0].localPositions == [0] && jobs[0].slots == [0])
        let last = IndexTensor(shape: [1, 2], values: [29 * 60 + 59, 0])
        let lastJobs = try tiling.jobs(positions: last)
        #expect(lastJobs.map(\.tile) == [0, 11])
        #expect(lastJobs[1].localPositions == [23 * 32 + 31] && lastJobs[1].slots == [0])
        #expect(throws: InferenceError.self) { try tiling.jobs(positions: IndexTensor(shape: [1, 1], values: [1800])) }
        #expect(throws: InferenceError.self) { try tiling.jobs(positions: IndexTensor(shape: [2, 1], values: [0, 1])) }
    }

    /// Cropping puts each tile's pixels of both frames and all three channels in its batch item.
    @Test func tilesAreCroppedFromTheirItem() throws {
        let (h, w) = (26, 33)
        let values = (0..<(2 * 6 * h * w)).map(Float.init)
        let frames = Tensor(shape: [2, 2, 3, h, w], scalars: values)
        let tiling = try FlowTiling(framesShape: frames.shape, tileHeight: 24, tileWidth: 32)
        let jobs = try tiling.jobs(positions: nil)
        let inputs = tiling.inputs(frames: frames, jobs: jobs[...])
        let crop = try #require(inputs.frames)
        #expect(crop.shape == [8, 2, 3, 24, 32])
        for (g, job) in jobs.enumerated() {
            let tile = tiling.tiles[job.tile]
            for (plane, y, x) in [(0, 0, 0), (5, 23, 31), (3, 7, 19)] {
                let expected = values[((tile.item * 6 + plane) * h + tile.y + y) * w + tile.x + x]
                #expect(crop.scalars[((g * 6 + plane) * 24 + y) * 32 + x] == expected)
            }
        }
    }

    /// A flow that is the same in every tile stitches to itself; a field that differs per tile is the weighted
    /// average at each pixel.
    @Test func stitchingIsTheWeightedAverage() throws {
        let tiling = try FlowTiling(framesShape: [1, 2, 3, 26, 33], tileHeight: 24, tileWidth: 32)
        let jobs = try tiling.jobs(positions: nil)
        var stitcher = FlowTiling.Stitcher(tiling, positionsPerItem: nil)
        // Tile t's flow is (t, -t) everywhere.
        let logits = jobs.flatMap { job in (0..<(24 * 32)).flatMap { _ in [Float(job.tile), -Float(job.tile)] } }
        stitcher.add(Tensor(shape: [jobs.count, 24, 32, 2], scalars: logits), jobs: jobs[...])
        let field = stitcher.result()
        #expect(field.shape == [1, 26, 33, 2])
        // Pixel (0, 0) is in tile 0 only; (25, 32) in tile 3 only; (12, 16) in all four.
        #expect(field.scalars[0] == 0)
        #expect(field.scalars[(25 * 33 + 32) * 2] == 3)
        let weights = tiling.tiles.map { tiling.weight(y: 12 - $0.y, x: 16 - $0.x) }
        let expected = Double(zip(weights, 0...).map { $0 * $1 }.reduce(0, +)) / Double(weights.reduce(0, +))
        #expect(field.scalars[(12 * 33 + 16) * 2] == Float(expected))
        #expect(field.scalars[(12 * 33 + 16) * 2 + 1] == -Float(expected))
    }

    /// The engine's tiled pass (tiles in batches) equals running every tile alone and stitching: the same
    /// tiles, batched. A batch may block every matmul of the pass differently from a single tile, so the
    /// reordering bound counts the whole pass's products in sequence, not the decoder's alone: the
    /// preprocessor's convolution (1), the encoder's cross-attention layer and the two self-attention layers
    /// (9 each: three projections, scores, weighted values, output projection, two MLP layers, and slack for
    /// the residuals), the decoder's (9): 37, rounded up to 40. Every sum is at most 322 terms long, the
    /// decoder's query width, which `reorderingTolerance` already takes as K.
    @Test(arguments: [1, 3, 100])
    func tilesInBatchesEqualTilesAlone(tilesPerPass: Int) throws {
        let model = try Fixtures.model("flow_tiles")
        let fixture = try Fixtures.load("flow_tiled_positions")
        let frames = try #require(fixture.inputs.frames)
        let tiling = try #require(try model.flowTiling(fixture.inputs))
        let jobs = try tiling.jobs(positions: nil)
        var alone = FlowTiling.Stitcher(tiling, positionsPerItem: nil)
        for job in jobs {
            alone.add(try model.predict(tiling.inputs(frames: frames, jobs: [job][...])).logits, jobs: [job][...])
        }
        let budget = tilesPerPass == 100 ? Int.max : model.estimatedPassBytes(
            tiling.inputs(frames: frames, jobs: jobs[0..<tilesPerPass]))
        var inputs = fixture.inputs
        inputs.outputPositions = nil
        let tiled = try model.predictTiled(inputs, tiling: tiling, budgetBytes: budget).logits
        let expected = alone.result()
        #expect(tiled.shape == expected.shape)
        let tolerance = reorderingTolerance(model, expected, decoderProducts: 40)
        #expect(NaiveReference.maxAbsDifference(tiled.scalars, expected.scalars) <= tolerance)
    }

    /// The tiles per pass fit the budget: more budget, more tiles, never over the limit.
    @Test func tilesPerPassFollowTheBudget() throws {
        let model = try Fixtures.model("flow_tiles")
        let frames = try #require(try Fixtures.load("flow_tiled").inputs.frames)
        let tiling = try FlowTiling(framesShape: frames.shape, tileHeight: 24, tileWidth: 32)
        let jobs = try tiling.jobs(positions: nil)
        let one = model.estimatedPassBytes(tiling.inputs(frames: frames, jobs: jobs[0..<1]))
        #expect(model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: 0, limit: 64) == 1)
        #expect(model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: one, limit: 64) == 1)
        let four = model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: 4 * one, limit: 64)
        #expect(four >= 2 && four <= 4)
        #expect(model.estimatedPassBytes(tiling.inputs(frames: frames, jobs: jobs[0..<four])) <= 4 * one)
        #expect(model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: .max / 2, limit: 5) == 5)
        #expect(model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: .max / 2, limit: 64) == jobs.count)
    }
}
