/// Optical flow on frames larger than `train_size` (`FlowTiling`): the tiles of one request run as batches of
/// as many tiles as a memory bound allows.
extension PerceiverModel {
    /// The default bound on one tiled batch's estimated working memory: the server's default `memory_budget_mib`.
    public static let defaultTileBudgetBytes = 2048 << 20

    /// The tiling of `inputs`' `frames` when this is an optical-flow model and they are larger than `train_size`;
    /// nil for other models, for patches (`inputs`), and for frames of exactly `train_size`.
    /// - Throws: `InferenceError` naming `frames` when they are smaller than `train_size` or not `(B, 2, 3, H, W)`,
    ///   or what cannot go with tiled frames (patches, a `latents` input, `queries`).
    public func flowTiling(_ inputs: ModelInputs) throws(InferenceError) -> FlowTiling? {
        guard let flow = preprocessor as? FlowPreprocessor, let frames = inputs.frames else { return nil }
        let tiling = try FlowTiling(framesShape: frames.shape, tileHeight: flow.height, tileWidth: flow.width)
        if tiling.isSingleTile { return nil }
        let size = "\(tiling.height) x \(tiling.width)"
        if inputs.flowPatches != nil {
            throw InferenceError.badValue(tensor: "frames", reason: "give either inputs (patches) or frames, not both")
        }
        if inputs["latents"] != nil {
            throw InferenceError.badValue(tensor: "latents", reason: "latents decode one \(flow.height) x "
                                          + "\(flow.width) frame pair; \(size) frames are tiled, each tile encoded "
                                          + "on its own")
        }
        if inputs.queries != nil {
            throw InferenceError.badValue(tensor: "queries", reason: "\(size) frames are tiled; choose pixels with "
                                          + "output_positions instead")
        }
        return tiling
    }

    /// How many tiles of `jobs` one pass takes: as many as fit `budgetBytes` by `estimatedPassBytes` (at least
    /// one) and at most `limit`. The estimate of G tiles is extrapolated from those of one and two, which is
    /// an upper bound: every term of the estimate grows linearly with the batch or less.
    public func tilesPerPass(_ tiling: FlowTiling, frames: Tensor, jobs: [FlowTiling.Job], budgetBytes: Int,
                             limit: Int) -> Int {
        guard jobs.count > 1, limit > 1 else { return 1 }
        let one = estimatedPassBytes(tiling.inputs(frames: frames, jobs: jobs[0..<1]))
        let two = estimatedPassBytes(tiling.inputs(frames: frames, jobs: jobs[0..<2]))
        let step = max(1, two - one)
        let fit = budgetBytes < one ? 1 : 1 + (budgetBytes - one) / step
        return max(1, min(jobs.count, limit, fit))
    }

    /// A tiled forward pass: the tiles `inputs` needs (all, or those holding its `output_positions`), in passes of
    /// as many tiles as `budgetBytes` allows (`tilesPerPass`; 0 runs one tile a pass), stitched.
    public func predictTiled(_ inputs: ModelInputs, tiling: FlowTiling,
                             budgetBytes: Int = defaultTileBudgetBytes) throws(InferenceError) -> ModelOutputs {
        guard let frames = inputs.frames else { throw InferenceError.missingInput("frames") }
        let positions = inputs.outputPositions
        let jobs = try tiling.jobs(positions: positions)
        let group = tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: budgetBytes, limit: jobs.count)
        var stitcher = FlowTiling.Stitcher(tiling, positionsPerItem: positions?.shape[1])
        for start in stride(from: 0, to: jobs.count, by: group) {
            let slice = jobs[start..<min(jobs.count, start + group)]
            stitcher.add(try predict(tiling.inputs(frames: frames, jobs: slice), context: context).logits, jobs: slice)
        }
        return ModelOutputs(logits: stitcher.result())
    }
}
