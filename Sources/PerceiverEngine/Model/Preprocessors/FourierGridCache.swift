/// Fourier position features of input grids (images (H, W), video (T, H, W), audio (N)), computed once per
/// grid size and then shared (224 x 224 x 258 takes ~60 ms to compute and is input-independent), bounded in
/// entries and bytes (`BoundedTableCache`).
final class FourierGridCache: Sendable {
    private let maxResolution: [Int]
    private let numBands: Int
    private let grids: BoundedTableCache
    /// Most bytes of features kept at once.
    var maxBytes: Int { grids.maxBytes }

    /// A cache of the last `capacity` grids' features, at most `maxBytes` of them (256 MiB by default: the
    /// published optical-flow geometry's grid is 188 MB).
    init(maxResolution: [Int], numBands: Int, capacity: Int = 8, maxBytes: Int = 256 << 20) {
        self.maxResolution = maxResolution
        self.numBands = numBands
        grids = BoundedTableCache(capacity: capacity, maxBytes: maxBytes)
    }

    /// Bytes of features held now (tests).
    var heldBytes: Int { grids.heldBytes }

    /// F = d + 2 * d * K: `[positions, sin(...), cos(...)]` (concat_pos, not sine_only), d grid dimensions.
    var channels: Int {
        FourierFeatures.outputSize(dims: maxResolution.count, numBands: numBands, concatPos: true, sineOnly: false)
    }

    /// `(H * W, F)` features of the `linspace(-1, 1)` grid over (H, W).
    func features(height: Int, width: Int) -> [Float] {
        features(indexDims: [height, width])
    }

    /// `(prod(indexDims), F)` features of the `linspace(-1, 1)` grid over `indexDims` (one entry per
    /// dimension of `maxResolution`).
    func features(indexDims key: [Int]) -> [Float] {
        precondition(key.count == maxResolution.count, "grid dimensions must match max_resolution")
        return grids.table(key) {
            FourierFeatures.fourierFeatures(positions: FourierFeatures.linearPositions(indexDims: key),
                                            count: key.reduce(1, *), dims: key.count, maxResolution: maxResolution,
                                            numBands: numBands, concatPos: true, sineOnly: false)
        }
    }
}
