/// `torch.nn.LayerNorm(channels)` over the rows of `(rows, channels)`: `y = (x - mean) / sqrt(var + eps) * gamma + beta`
/// with the biased variance, eps 1e-5 (docs/reference/perceiver.md TL;DR 2).
///
/// Replaces oneDNN 2.6's layer normalization: on an AVX2 EPYC (family 23 model 1) its
/// `simple_layer_normalization:any` took 2.1 ms per 256 x 1280 latent array (ONEDNN_VERBOSE, lightly loaded
/// machine; 55 calls a language-perceiver pass, about 6% of it), where this kernel's three passes over each row
/// take 0.24 ms on one thread (`PerceiverBench reference --profile`, quiet; docs/benchmarks.md).
///
/// Per row: the mean from a 16-lane sum, the variance from a second pass over `x - mean` (two passes, so an
/// offset mean costs no precision, as in `NaiveReference.layerNorm`), then the affine map. Sums are f32 in 16
/// lanes: for C channels each lane adds C/16 terms, so the rounding of a sum is at most about
/// (C/16 + 4) * 2^-24 of the sum of magnitudes (Higham 3.1): below 1e-5 relative for C up to 2,000.
///
/// Runs on the calling thread (the pass's thread; oneDNN's other threads are idle between primitives). Code
/// stays baseline x86-64 (SSE2): `SIMD16<Float>` is four SSE registers.
enum LayerNormKernel {
    static let epsilon: Float = 1e-5

    /// - Parameters:
    ///   - src: `(rows, channels)`; may be the same buffer as `dst`.
    ///   - gamma, beta: `(channels)`.
    ///   - dst: `(rows, channels)`.
    static func apply(rows: Int, channels c: Int, src: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                      beta: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
        let vectors = c / 16
        let g = UnsafeRawPointer(gamma), b = UnsafeRawPointer(beta)
        for r in 0..<rows {
            let x = src + r * c
            let raw = UnsafeRawPointer(x)
            let (mean, inverse) = statistics(x, channels: c)
            // Pass 3: normalize, scale and shift.
            let y = UnsafeMutableRawPointer(dst + r * c)
            for v in 0..<vectors {
                let offset = v * 64
                let d = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) - mean
                let scale = g.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                let shift = b.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                y.storeBytes(of: d * inverse * scale + shift, toByteOffset: offset, as: SIMD16<Float>.self)
            }
            for j in (vectors * 16)..<c { dst[r * c + j] = (x[j] - mean) * inverse * gamma[j] + beta[j] }
        }
    }

    /// Passes 1 and 2 of `apply` over one row `x (channels)`: its mean and `1 / sqrt(var + eps)`, the biased
    /// variance taken about the mean. `TabulatedKeyValues` scales its table rows by the same figure.
    static func statistics(_ x: UnsafePointer<Float>, channels c: Int) -> (mean: Float, inverse: Float) {
        let vectors = c / 16
        let raw = UnsafeRawPointer(x)
        // Pass 1: the mean.
        var sum = SIMD16<Float>.zero
        for v in 0..<vectors { sum += raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) }
        var total = sum.sum()
        for j in (vectors * 16)..<c { total += x[j] }
        let mean = total / Float(c)
        // Pass 2: the biased variance about the mean.
        var squares = SIMD16<Float>.zero
        for v in 0..<vectors {
            let d = raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) - mean
            squares += d * d
        }
        var squareTotal = squares.sum()
        for j in (vectors * 16)..<c { squareTotal += (x[j] - mean) * (x[j] - mean) }
        return (mean, 1 / (squareTotal / Float(c) + epsilon).squareRoot())
    }
}
