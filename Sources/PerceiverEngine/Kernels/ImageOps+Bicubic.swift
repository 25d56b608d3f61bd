extension ImageOps {
    /// PyTorch's `nn.functional.interpolate(mode="bicubic", align_corners=False)` (`upsample_bicubic2d`, CPU)
    /// of a channels-last plane `(inHeight, inWidth, C)` to `(outHeight, outWidth, C)`, in f32 as PyTorch
    /// computes it for f32: per output row and column the source index `(dst + 0.5) * in / out - 0.5` (not
    /// clamped, as for cubic), its floor (at most `in - 1`) and the fraction `t` clamped to [0, 1], the cubic
    /// convolution weights with A = -0.75, the four taps `floor - 1 ... floor + 2` clamped to the border; each
    /// of the four source rows is summed across its four columns first, then the rows, in tap order.
    static func bicubicResize(_ input: [Float], height inHeight: Int, width inWidth: Int, channels: Int,
                              toHeight outHeight: Int, toWidth outWidth: Int) -> [Float] {
        precondition(input.count == inHeight * inWidth * channels, "input is not (H, W, C)")
        let rows = BicubicTaps(input: inHeight, output: outHeight)
        let columns = BicubicTaps(input: inWidth, output: outWidth)
        var out = [Float](repeating: 0, count: outHeight * outWidth * channels)
        input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let target = dst.baseAddress! + (y * outWidth + x) * channels
                        for c in 0..<channels {
                            var total: Float = 0
                            for i in 0..<4 {
                                let row = src.baseAddress! + rows.index[y * 4 + i] * inWidth * channels + c
                                var across = row[columns.index[x * 4] * channels] * columns.weight[x * 4]
                                for j in 1..<4 {
                                    across += row[columns.index[x * 4 + j] * channels] * columns.weight[x * 4 + j]
                                }
                                total = i == 0 ? across * rows.weight[y * 4] : total + across * rows.weight[y * 4 + i]
                            }
                            target[c] = total
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The four source indices and weights of each output index along one axis (`compute_indices_weights_cubic`).
struct BicubicTaps {
    /// `(output, 4)` source indices, border-clamped.
    var index: [Int] = []
    /// `(output, 4)` cubic convolution weights.
    var weight: [Float] = []

    init(input: Int, output: Int) {
        let scale = Float(input) / Float(output)
        for dst in 0..<output {
            let real = scale * (Float(dst) + 0.5) - 0.5
            let floor = min(Int(real.rounded(.down)), input - 1)
            let t = min(max(real - Float(floor), 0), 1)
            weight += Self.coefficients(t)
            index += (0..<4).map { min(max(floor - 1 + $0, 0), input - 1) }
        }
    }

    /// `get_cubic_upsample_coefficients` with A = -0.75.
    static func coefficients(_ t: Float) -> [Float] {
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        let opposite = 1 - t
        return [far(t + 1), near(t), near(opposite), far(opposite + 1)]
    }
}
