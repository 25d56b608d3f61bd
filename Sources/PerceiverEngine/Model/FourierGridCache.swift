import Foundation

/// Fourier position features of image grids, computed once per grid size and then shared
/// (224 x 224 x 258 takes ~60 ms to compute and is input-independent).
final class FourierGridCache: @unchecked Sendable {
    private let maxResolution: [Int]
    private let numBands: Int
    private let capacity = 8
    private let lock = NSLock()
    // Guarded by `lock`: grid (H, W) -> (H * W, F) features, and insertion order for eviction.
    private var grids: [[Int]: [Float]] = [:]
    private var order: [[Int]] = []

    init(maxResolution: [Int], numBands: Int) {
        self.maxResolution = maxResolution
        self.numBands = numBands
    }

    /// F = 2 + 2 * 2 * K: `[y, x, sin(...), cos(...)]` (concat_pos, not sine_only).
    var channels: Int { FourierFeatures.outputSize(dims: 2, numBands: numBands, concatPos: true, sineOnly: false) }

    /// `(H * W, F)` features of the `linspace(-1, 1)` grid over (H, W).
    func features(height: Int, width: Int) -> [Float] {
        let key = [height, width]
        lock.lock()
        if let cached = grids[key] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let positions = FourierFeatures.linearPositions(indexDims: key)
        let features = FourierFeatures.fourierFeatures(positions: positions, count: height * width, dims: 2,
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
