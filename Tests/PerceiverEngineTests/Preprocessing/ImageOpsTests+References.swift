@testable import PerceiverEngine

// Naive references and deterministic inputs for ImageOpsTests and ConvChainTests.

extension ConvChainFixtures {
    /// Deterministic inputs shared with tools/fixtures/make_prep_fixtures.py (`lcg`): a 31-bit LCG picks k in
    /// [-127, 127], and the value is `Float(k) / Float(denominator)` rounded once in float32, so Python and Swift
    /// agree exactly.
    static func lcg(count: Int, seed: Int, denominator: Float) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = (state * 1_103_515_245 + 12345) % (1 << 31)
            return Float((state >> 16) % 255 - 127) / denominator
        }
    }

    /// The chain's input `(1, 3, 16, 16)` and conv weight `(4, 3, 7, 7)`.
    static let input = lcg(count: 3 * 16 * 16, seed: 1, denominator: 61)
    static let weight = lcg(count: 4 * 3 * 7 * 7, seed: 2, denominator: 97)
    /// BatchNorm2d(4) running statistics and affine parameters, each `(4)`.
    static let mean = lcg(count: 4, seed: 11, denominator: 37)
    static let variance = lcg(count: 4, seed: 12, denominator: 29).map { abs($0) + 0.25 }
    static let scale = lcg(count: 4, seed: 13, denominator: 41)
    static let bias = lcg(count: 4, seed: 14, denominator: 53)
}

extension ImageOpsTests {
    /// `rows (M, C·K·K) · weightᵀ` for an OIHW weight viewed as `(O, C·K·K)`: a plain triple loop.
    /// - Returns: `(M, O)`.
    static func multiply(rows: [Float], weight: [Float], outChannels: Int) -> [Float] {
        let depth = weight.count / outChannels
        let m = rows.count / depth
        var out = [Float](repeating: 0, count: m * outChannels)
        for r in 0..<m {
            for o in 0..<outChannels {
                var sum: Float = 0
                for j in 0..<depth { sum += rows[r * depth + j] * weight[o * depth + j] }
                out[r * outChannels + o] = sum
            }
        }
        return out
    }

    /// Direct zero-padded convolution of `(B, C, H, W)` with an OIHW weight, written to `(B, OH, OW, O)`.
    static func directConvolutionNHWC(
        _ x: [Float], _ weight: [Float], shape: (b: Int, c: Int, h: Int, w: Int), outChannels: Int,
        kernel: Int, stride: Int, pad: (top: Int, left: Int), out: (h: Int, w: Int)
    ) -> [Float] {
        var result: [Float] = []
        for b in 0..<shape.b { for oy in 0..<out.h { for ox in 0..<out.w { for o in 0..<outChannels {
            var sum: Float = 0
            for c in 0..<shape.c { for kh in 0..<kernel { for kw in 0..<kernel {
                let iy = oy * stride - pad.top + kh
                let ix = ox * stride - pad.left + kw
                guard iy >= 0, iy < shape.h, ix >= 0, ix < shape.w else { continue }
                sum += x[((b * shape.c + c) * shape.h + iy) * shape.w + ix]
                    * weight[((o * shape.c + c) * kernel + kh) * kernel + kw]
            } } }
            result.append(sum)
        } } } }
        return result
    }

    /// Arbitrary but well-conditioned BatchNorm parameters, each `(C)`.
    static func batchNormParameters(channels: Int)
        -> (mean: [Float], variance: [Float], weight: [Float], bias: [Float]) {
        (ConvChainFixtures.lcg(count: channels, seed: 31, denominator: 9),
         ConvChainFixtures.lcg(count: channels, seed: 32, denominator: 11).map { abs($0) + 0.1 },
         ConvChainFixtures.lcg(count: channels, seed: 33, denominator: 23),
         ConvChainFixtures.lcg(count: channels, seed: 34, denominator: 19))
    }
}
