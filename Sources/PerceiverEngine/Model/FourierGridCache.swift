import Foundation

/// Fourier position features of input grids (images (H, W), video (T, H, W), audio (N)), computed once per
/// grid size and then shared (224 x 224 x 258 takes ~60 ms to compute and is input-independent).
final class FourierGridCache: @unchecked Sendable {
    private let maxResolution: [Int]
    private let numBands: Int
    private let capacity: Int
    private let lock = NSLock()
    // Guarded by `lock`: grid (H, W) -> (H * W, F) features, and insertion order for eviction.
    private var grids: [[Int]: [Float]] = [:]
    private var order: [[Int]] = []

    /// A cache of the last `capacity` grids' features.
    init(maxResolution: [Int], numBands: Int, capacity: Int = 8) {
        self.maxResolution = maxResolution
        self.numBands = numBands
        self.capacity = max(1, capacity)
    }

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
        lock.lock()
        if let cached = grids[key] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let positions = FourierFeatures.linearPositions(indexDims: key)
        let features = FourierFeatures.fourierFeatures(positions: positions, count: key.reduce(1, *), dims: key.count,
                                                       maxResolution: maxResolution, numBands: numBands,
                                                       concatPos: true, sineOnly: false)
        lock.lock()
        defer { lock.unlock() }
        if grids[key] == nil {
            if order.count == capacity { grids[order.removeFirst()] = nil }
            grids[key] = features
            order.append(key)
        }
        return features
    }
}
