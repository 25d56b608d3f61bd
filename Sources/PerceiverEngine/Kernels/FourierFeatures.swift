import Foundation

/// Position grids and Fourier position features, as `transformers`' Perceiver builds them (docs/reference/perceiver.md
/// B.8).
///
/// Shape letters: P positions, d position dimensions (2 for images, 1 for audio, 3 for video),
/// K frequency bands, F = `outputSize(...)` feature channels.
public enum FourierFeatures {
    /// π rounded to the nearest float32 (0x40490FDB), which is what `np.pi * float32_tensor` uses in torch.
    /// Swift's `Float.pi` is rounded toward zero (0x40490FDA) and would shift the audio phases by up to 4e-3 rad.
    static let pi = Float(bitPattern: 0x4049_0FDB)

    /// The grid of positions in [-1, 1] for an input with the given index dimensions.
    ///
    /// Mirrors `build_linear_positions`: `torch.linspace(-1, 1, n)` per dimension, `meshgrid(indexing="ij")`,
    /// flattened row-major (dimension 0 varies slowest). For images `indexDims` is `[H, W]`, so each row is `[y, x]`.
    /// - Parameter indexDims: `[d0, d1, ...]`, each `>= 0`.
    /// - Returns: `(P, d)` with `P = d0 * d1 * ...`.
    public static func linearPositions(indexDims: [Int]) -> [Float] {
        precondition(indexDims.allSatisfy { $0 >= 0 }, "negative index dimension in \(indexDims)")
        let d = indexDims.count
        let count = indexDims.reduce(1, *)
        guard d > 0, count > 0 else { return [] }
        let axes = indexDims.map { torchLinspace(start: -1, end: 1, count: $0) }
        var index = [Int](repeating: 0, count: d)
        var out = [Float](repeating: 0, count: count * d)
        for row in 0..<count {
            for i in 0..<d { out[row * d + i] = axes[i][index[i]] }
            // Odometer increment: the last dimension varies fastest (row-major, "ij" meshgrid).
            var i = d - 1
            while i >= 0 {
                index[i] += 1
                if index[i] < indexDims[i] { break }
                index[i] = 0
                i -= 1
            }
        }
        return out
    }

    /// Positions of chosen points of a flattened grid, as the decoder computes them for subsampled queries.
    ///
    /// Mirrors `PerceiverBasicDecoder.decoder_query` with `subsampled_points`: `unravel_index` (row-major),
    /// then `-1 + 2 * coord / dim`, where torch promotes the int64 `2 * coord` and `dim` to float32 before the
    /// division. These positions span `[-1, 1 - 2/dim]`; they are not a linspace.
    /// - Parameters:
    ///   - flatIndices: `(O)` indices into the flattened grid, each in `0..<prod(indexDims)`.
    ///     (torch wraps out-of-range indices around; we reject them.)
    ///   - indexDims: `[d0, d1, ...]`.
    /// - Returns: `(O, d)`.
    /// - Throws: `KernelError.invalidIndexDimensions` if a dimension is negative or the product overflows,
    ///   `KernelError.indexOutOfRange` for an index outside the grid.
    public static func subsampledPositions(flatIndices: [Int], indexDims: [Int]) throws(KernelError) -> [Float] {
        let count = try checkedProduct(indexDims)
        let d = indexDims.count
        var out = [Float](repeating: 0, count: flatIndices.count * d)
        for (row, flat) in flatIndices.enumerated() {
            guard flat >= 0, flat < count else { throw .indexOutOfRange(index: flat, count: count) }
            var rest = flat
            for i in stride(from: d - 1, through: 0, by: -1) {
                let coord = rest % indexDims[i]
                rest /= indexDims[i]
                out[row * d + i] = -1 + Float(2 * coord) / Float(indexDims[i])
            }
        }
        return out
    }

    /// The frequency bands `linspace(1, maxResolution[i] / 2, K)` for each dimension (float32, torch-exact).
    /// - Returns: `(d, K)`.
    public static func frequencyBands(maxResolution: [Int], numBands: Int) -> [Float] {
        // `generate_fourier_features`: `torch.linspace(start=1.0, end=res / 2, steps=num_bands)`; `res / 2` is a
        // Python float, so odd resolutions give a half-integer end.
        maxResolution.flatMap { torchLinspace(start: 1, end: Float(Double($0) / 2), count: numBands) }
    }

    /// Number of channels F that `fourierFeatures` produces (`PerceiverFourierPositionEncoding.output_size`).
    public static func outputSize(dims: Int, numBands: Int, concatPos: Bool, sineOnly: Bool) -> Int {
        dims * numBands * (sineOnly ? 1 : 2) + (concatPos ? dims : 0)
    }

    /// Fourier position features, as `generate_fourier_features` computes them in float32.
    ///
    /// For position row n, dimension i and band k: `x = fl32(pos[n, i] * freq[i, k])`, `ph = fl32(fl32(π) * x)`.
    /// Channel order: `[pos (d) | sin(ph) (d·K, dimension-major then band) | cos(ph) (d·K)]`; `sineOnly` drops the
    /// cosines and `concatPos == false` drops the leading raw positions.
    /// Sine and cosine are glibc `sinf`/`cosf`; torch uses SLEEF's vectorised versions, which differ by at most
    /// one float32 ulp (measured max |diff| 6e-8, also at the audio grid's 48,255 rad phases).
    /// - Parameters:
    ///   - positions: `(P, d)` positions, usually from `linearPositions` or `subsampledPositions`.
    ///   - count: P.
    ///   - dims: d; must equal `maxResolution.count`.
    ///   - maxResolution: `(d)` resolution per dimension; the top frequency is half of it (Nyquist).
    ///   - numBands: K.
    /// - Returns: `(P, F)` with `F = outputSize(dims:numBands:concatPos:sineOnly:)`.
    public static func fourierFeatures(
        positions: [Float], count: Int, dims: Int, maxResolution: [Int],
        numBands: Int, concatPos: Bool, sineOnly: Bool
    ) -> [Float] {
        precondition(positions.count == count * dims, "positions must be (count, dims)")
        precondition(maxResolution.count == dims, "maxResolution must have one entry per dimension")
        let width = outputSize(dims: dims, numBands: numBands, concatPos: concatPos, sineOnly: sineOnly)
        let layout = RowLayout(dims: dims, numBands: numBands, concatPos: concatPos, sineOnly: sineOnly)
        let freq = frequencyBands(maxResolution: maxResolution, numBands: numBands)
        var out = [Float](repeating: 0, count: count * width)
        positions.withUnsafeBufferPointer { pos in
            freq.withUnsafeBufferPointer { freq in
                out.withUnsafeMutableBufferPointer { out in
                    for n in 0..<count {
                        writeRow(UnsafeBufferPointer(rebasing: pos[(n * dims)..<(n * dims + dims)]), freq: freq,
                                 into: UnsafeMutableBufferPointer(rebasing: out[(n * width)..<(n * width + width)]),
                                 layout: layout)
                    }
                }
            }
        }
        return out
    }

    /// Where the parts of one feature row go: `[pos | sin | cos]`, with the optional parts possibly absent.
    private struct RowLayout {
        let dims: Int
        let numBands: Int
        let concatPos: Bool
        let sineOnly: Bool
        var sinBase: Int { concatPos ? dims : 0 }
        var cosBase: Int { sinBase + dims * numBands }
    }

    /// One row of `generate_fourier_features`: `pos (d)`, `freq (d, K)` → `row (F)`.
    private static func writeRow(
        _ pos: UnsafeBufferPointer<Float>, freq: UnsafeBufferPointer<Float>,
        into row: UnsafeMutableBufferPointer<Float>, layout: RowLayout
    ) {
        if layout.concatPos {
            for i in 0..<layout.dims { row[i] = pos[i] }
        }
        for i in 0..<layout.dims {
            for k in 0..<layout.numBands {
                let j = i * layout.numBands + k
                // Two float32 roundings, in torch's order: `pos[0][:, :, None] * freq_bands`, then `np.pi * x`.
                let phase = pi * (pos[i] * freq[j])
                row[layout.sinBase + j] = sin(phase)
                if !layout.sineOnly { row[layout.cosBase + j] = cos(phase) }
            }
        }
    }

    /// Product of `dims`, or a `KernelError` for a negative dimension or an overflow.
    private static func checkedProduct(_ dims: [Int]) throws(KernelError) -> Int {
        var product = 1
        for dim in dims {
            guard dim >= 0 else { throw .invalidIndexDimensions(dims) }
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .invalidIndexDimensions(dims) }
            product = next
        }
        return product
    }
}
