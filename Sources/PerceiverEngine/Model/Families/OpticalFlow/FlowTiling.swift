/// Optical flow on frames larger than `train_size`, tiled as DeepMind's optical-flow colab does
/// (`compute_grid_indices`, `compute_optical_flow`): tiles of `train_size` with corners every
/// `train_size - minOverlap` pixels, the last moved to end flush with the frame's edge, each through the model,
/// stitched by a weighted average whose weight at tile pixel (y, x) is
/// `min(min(x + 1, W - x), min(y + 1, H - y))` (W, H the tile's size): 1 at a tile's edge, largest at its centre.
///
/// Two departures from the colab, as perceiverd's issue 22 asks: every start is clamped to `size - tile` (the
/// colab slices past the edge when a start before the last passes it, e.g. 700 rows: 0, 348, 696 -> 0, 348, 332,
/// a short tile the model refuses), and each distinct start is used once (the colab runs a repeated start again:
/// a frame of exactly `train_size` is one tile twice, which averages to the same numbers, but 716 rows give 0,
/// 348, 348, which weighs the last tile row double; a repeat costs a pass and adds nothing).
///
/// A request gives `frames (B, 2, 3, H, W)`; `jobs(positions:)` lists the tiles to run (all of them, or only those
/// that hold a chosen pixel, with the pixels they hold), `inputs(frames:jobs:)` crops a group of them into one
/// model batch, and a `Stitcher` takes each group's logits and gives the frame's `(B, H, W, 2)` field or the
/// chosen pixels' `(B, K, 2)`.
public struct FlowTiling: Sendable, Equatable {
    /// The colab's `min_overlap`.
    public static let minOverlap = 20

    /// One tile: the batch item it belongs to and its top-left corner in that item's frames.
    public struct Tile: Sendable, Equatable {
        public let item: Int
        public let y: Int
        public let x: Int
    }

    /// One tile to run: which tile, and for chosen pixels, its pixels (row-major within the tile) and the
    /// slots of the answer they go to (`item * K + k`); nil for every pixel of the tile.
    public struct Job: Sendable, Equatable {
        public let tile: Int
        public let localPositions: [Int]?
        public let slots: [Int]?
    }

    public let batch: Int
    public let height: Int
    public let width: Int
    public let tileHeight: Int
    public let tileWidth: Int
    /// Every tile of every item, item by item, rows of tiles top to bottom, each left to right.
    public let tiles: [Tile]

    /// The tiling of frames of `shape` `(B, 2, 3, H, W)` for tiles of `tileHeight x tileWidth`.
    /// - Throws: `InferenceError.badShape` naming `frames` when the shape is not `(B, 2, 3, H, W)` with H and W at
    ///   least the tile's.
    public init(framesShape shape: [Int], tileHeight: Int, tileWidth: Int) throws(InferenceError) {
        let expected = "(B, 2, 3, H, W) with H >= \(tileHeight) and W >= \(tileWidth) (the model's train_size; "
            + "larger frames are tiled)"
        guard shape.count == 5, shape[0] >= 1, shape[1] == 2, shape[2] == 3, shape[3] >= tileHeight,
              shape[4] >= tileWidth else {
            throw InferenceError.badShape(tensor: "frames", expected: expected, actual: shape)
        }
        (batch, height, width) = (shape[0], shape[3], shape[4])
        (self.tileHeight, self.tileWidth) = (tileHeight, tileWidth)
        if (height, width) != (tileHeight, tileWidth), min(tileHeight, tileWidth) <= Self.minOverlap {
            // The colab refuses such a tiling too: tiles could not overlap by minOverlap pixels.
            throw InferenceError.badShape(tensor: "frames", expected: "(B, 2, 3, \(tileHeight), \(tileWidth)): this "
                                          + "model's train_size is too small to tile with a \(Self.minOverlap)-pixel "
                                          + "overlap", actual: shape)
        }
        let ys = Self.starts(length: height, tile: tileHeight)
        let xs = Self.starts(length: width, tile: tileWidth)
        tiles = (0..<batch).flatMap { item in ys.flatMap { y in xs.map { x in Tile(item: item, y: y, x: x) } } }
    }

    /// Whether the frames are exactly one tile, which the model runs as they are.
    public var isSingleTile: Bool { height == tileHeight && width == tileWidth }

    /// Tile starts along one side: `range(0, length, tile - minOverlap)`, the last replaced by `length - tile`,
    /// each clamped to `length - tile`, repeats dropped.
    public static func starts(length: Int, tile: Int) -> [Int] {
        let last = length - tile
        var starts = Array(stride(from: 0, to: length, by: max(1, tile - minOverlap)))
        starts[starts.count - 1] = last
        var seen: [Int] = []
        for start in starts.map({ min($0, last) }) where !seen.contains(start) { seen.append(start) }
        return seen
    }

    /// The stitching weight at tile pixel (y, x).
    public func weight(y: Int, x: Int) -> Int {
        min(min(x + 1, tileWidth - x), min(y + 1, tileHeight - y))
    }

    /// The tiles to run. Without `positions`, every tile, whole. With `positions` `(B, K)` (pixel indices
    /// `y * W + x` in the frame), only the tiles that hold one, each with its pixels.
    /// - Throws: `InferenceError.badShape`/`.badValue` naming `output_positions` for a wrong shape or a pixel
    ///   outside the frame.
    public func jobs(positions: IndexTensor?) throws(InferenceError) -> [Job] {
        guard let positions else { return tiles.indices.map { Job(tile: $0, localPositions: nil, slots: nil) } }
        guard positions.shape.count == 2, positions.shape[0] == batch, positions.shape[1] >= 1 else {
            throw InferenceError.badShape(tensor: "output_positions", expected: "(\(batch), K)", actual: positions.shape)
        }
        let k = positions.shape[1]
        let pixels = height * width
        if let bad = positions.values.first(where: { $0 < 0 || $0 >= pixels }) {
            throw InferenceError.badValue(tensor: "output_positions", reason: "pixel \(bad) is outside the "
                                          + "\(height) x \(width) frame (0..<\(pixels))")
        }
        var jobs: [Job] = []
        for (index, tile) in tiles.enumerated() {
            var locals: [Int] = [], slots: [Int] = []
            for slot in (tile.item * k)..<((tile.item + 1) * k) {
                let (y, x) = positions.values[slot].quotientAndRemainder(dividingBy: width)
                guard y >= tile.y, y < tile.y + tileHeight, x >= tile.x, x < tile.x + tileWidth else { continue }
                locals.append((y - tile.y) * tileWidth + (x - tile.x))
                slots.append(slot)
            }
            if !locals.isEmpty { jobs.append(Job(tile: index, localPositions: locals, slots: slots)) }
        }
        return jobs
    }

    /// The model inputs of `jobs`, one batch item per tile: `frames (G, 2, 3, tileHeight, tileWidth)` cropped
    /// from `frames (B, 2, 3, H, W)`, and for chosen pixels `output_positions (G, K)`, K the most any of them
    /// holds, shorter lists padded with their own first pixel (whose answer the stitcher ignores).
    public func inputs(frames: Tensor, jobs: ArraySlice<Job>) -> ModelInputs {
        let (th, tw) = (tileHeight, tileWidth)
        var crop = [Float](repeating: 0, count: jobs.count * 6 * th * tw)
        frames.scalars.withUnsafeBufferPointer { src in
            crop.withUnsafeMutableBufferPointer { dst in
                for (g, job) in jobs.enumerated() {
                    let tile = tiles[job.tile]
                    for plane in 0..<6 {
                        let from = (tile.item * 6 + plane) * height * width
                        let to = (g * 6 + plane) * th * tw
                        for row in 0..<th {
                            (dst.baseAddress! + to + row * tw).update(
                                from: src.baseAddress! + from + (tile.y + row) * width + tile.x, count: tw)
                        }
                    }
                }
            }
        }
        var inputs = ModelInputs()
        inputs.frames = Tensor(shape: [jobs.count, 2, 3, th, tw], scalars: crop)
        if jobs.first?.localPositions != nil {
            let k = jobs.map { $0.localPositions?.count ?? 0 }.max() ?? 1
            let values = jobs.flatMap { job -> [Int] in
                let locals = job.localPositions ?? [0]
                return locals + Array(repeating: locals[0], count: k - locals.count)
            }
            inputs.outputPositions = IndexTensor(shape: [jobs.count, k], values: values)
        }
        return inputs
    }

    /// Sums each tile's flow times its weights, and the weights, in double precision (as the colab's float32
    /// flow times integer weights sums in float64), and divides once every tile is in.
    public struct Stitcher: Sendable {
        let tiling: FlowTiling
        let positionsPerItem: Int?
        var sums: [Double]
        var weights: [Double]

        /// A stitcher for the whole field, or for `positionsPerItem` chosen pixels per item.
        public init(_ tiling: FlowTiling, positionsPerItem: Int?) {
            self.tiling = tiling
            self.positionsPerItem = positionsPerItem
            let points = tiling.batch * (positionsPerItem ?? tiling.height * tiling.width)
            sums = [Double](repeating: 0, count: points * 2)
            weights = [Double](repeating: 0, count: points)
        }

        /// Adds the logits of `jobs`, the batch their `inputs` made: `(G, tileHeight, tileWidth, 2)` for whole
        /// tiles, `(G, K, 2)` for chosen pixels.
        public mutating func add(_ logits: Tensor, jobs: ArraySlice<Job>) {
            let t = tiling
            let perTile = logits.scalars.count / max(1, jobs.count)
            for (g, job) in jobs.enumerated() {
                let tile = t.tiles[job.tile]
                let base = g * perTile
                if let locals = job.localPositions, let slots = job.slots {
                    for (i, (local, slot)) in zip(locals, slots).enumerated() {
                        let (y, x) = local.quotientAndRemainder(dividingBy: t.tileWidth)
                        accumulate(point: slot, weight: t.weight(y: y, x: x), logits.scalars, at: base + i * 2)
                    }
                } else {
                    for y in 0..<t.tileHeight {
                        for x in 0..<t.tileWidth {
                            let point = (tile.item * t.height + tile.y + y) * t.width + tile.x + x
                            accumulate(point: point, weight: t.weight(y: y, x: x), logits.scalars,
                                       at: base + (y * t.tileWidth + x) * 2)
                        }
                    }
                }
            }
        }

        private mutating func accumulate(point: Int, weight: Int, _ flow: [Float], at offset: Int) {
            let w = Double(weight)
            sums[point * 2] += Double(flow[offset]) * w
            sums[point * 2 + 1] += Double(flow[offset + 1]) * w
            weights[point] += w
        }

        /// The stitched logits: `(B, H, W, 2)`, or `(B, K, 2)` for chosen pixels.
        public func result() -> Tensor {
            let values = sums.indices.map { Float(sums[$0] / weights[$0 / 2]) }
            let shape = positionsPerItem.map { [tiling.batch, $0, 2] } ?? [tiling.batch, tiling.height, tiling.width, 2]
            return Tensor(shape: shape, scalars: values)
        }
    }
}
