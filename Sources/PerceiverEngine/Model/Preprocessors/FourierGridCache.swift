import Foundation

/// Fourier position features of input grids (images (H, W), video (T, H, W), audio (N)), computed once per
/// grid size and then shared (224 x 224 x 258 takes ~60 ms to compute and is input-independent).
///
/// Bounded in entries and in bytes: clients choose the sizes, and eight 768 x 768 grids held 5.8 GB when only
/// the entries were counted. A grid larger than the byte bound is computed for its request and not kept.
final class FourierGridCache: @unchecked Sendable {
    private let maxResolution: [Int]
    private let numBands: Int
    private let capacity: Int
    /// Most bytes of features kept at once.
    let maxBytes: Int
    private let lock = NSLock()
    // Guarded by `lock`: grid (H, W) -> (H * W, F) features, insertion order for eviction, and their bytes.
    private var grids: [[Int]: [Float]] = [:]
    private var order: [[Int]] = []
    private var bytes = 0

    /// A cache of the last `capacity` grids' features, at most `maxBytes` of them (256 MiB by default: the
    /// published optical-flow geometry's grid is 188 MB).
    init(maxResolution: [Int], numBands: Int, capacity: Int = 8, maxBytes: Int = 256 << 20) {
        self.maxResolution = maxResolution
        self.numBands = numBands
        self.capacity = max(1, capacity)
        self.maxBytes = max(0, maxBytes)
    }

    /// Bytes of features held now (tests).
    var heldBytes: Int { lock.withLock { bytes } }

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
        let size = features.count * MemoryLayout<Float>.stride
        lock.lock()
        defer { lock.unlock() }
        guard grids[key] == nil, size <= maxBytes else { return features }
        while order.count >= capacity || bytes + size > maxBytes, !order.isEmpty {
            let evicted = order.removeFirst()
            bytes -= (grids.removeValue(forKey: evicted)?.count ?? 0) * MemoryLayout<Float>.stride
        }
        grids[key] = features
        order.append(key)
        bytes += size
        return features
    }
}
