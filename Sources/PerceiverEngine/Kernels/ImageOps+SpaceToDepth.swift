extension ImageOps {
    /// Space-to-depth of a channels-first image: `(B, C, H, W)` → `(B, H/s, W/s, s·s·C)`.
    ///
    /// Mirrors HF `space_to_depth` for 4-D input: view `(B, C, H/s, s, W/s, s)`, permute `(0, 2, 4, 3, 5, 1)`;
    /// output channel `(dh·s + dw)·C + c` (docs/reference/perceiver.md B.9.3).
    /// - Precondition: `H` and `W` are multiples of `s` (torch's `view` fails otherwise).
    /// - Returns: `(B, H/s, W/s, s·s·C)`.
    public static func spaceToDepth(
        _ x: [Float], batch: Int, channels: Int, height: Int, width: Int, blockSize s: Int
    ) -> [Float] {
        spaceToDepth(x, batch: batch, time: 1, channels: channels, height: height, width: width,
                     temporalBlockSize: 1, spatialBlockSize: s)
    }

    /// Space-to-depth of a channels-first video: `(B, T, C, H, W)` → `(B, T/t, H/s, W/s, t·s·s·C)`.
    ///
    /// Mirrors HF `space_to_depth` for 5-D input: view `(B, T/t, t, C, H/s, s, W/s, s)`, permute
    /// `(0, 1, 4, 6, 2, 5, 7, 3)`; output channel `((dt·s + dh)·s + dw)·C + c`. With `T == t == 1` this equals
    /// the 4-D form.
    /// - Precondition: `T` is a multiple of `t`; `H` and `W` are multiples of `s`.
    /// - Returns: `(B, T/t, H/s, W/s, t·s·s·C)`.
    public static func spaceToDepth(
        _ x: [Float], batch: Int, time: Int, channels: Int, height: Int, width: Int,
        temporalBlockSize t: Int, spatialBlockSize s: Int
    ) -> [Float] {
        precondition(t > 0 && s > 0 && time % t == 0 && height % s == 0 && width % s == 0,
                     "time, height and width must be multiples of the block sizes")
        precondition(x.count == batch * time * channels * height * width, "x must be (B, T, C, H, W)")
        let (to, ho, wo) = (time / t, height / s, width / s)
        let depth = t * s * s * channels
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Iterate over the source in memory order; each element lands at one computed destination.
                var i = 0
                for b in 0..<batch {
                    for tt in 0..<time {
                        let (tb, dt) = tt.quotientAndRemainder(dividingBy: t)
                        for c in 0..<channels {
                            for y in 0..<height {
                                let (yb, dh) = y.quotientAndRemainder(dividingBy: s)
                                let rowBase = ((b * to + tb) * ho + yb) * wo
                                for xx in 0..<width {
                                    let (xb, dw) = xx.quotientAndRemainder(dividingBy: s)
                                    let channel = ((dt * s + dh) * s + dw) * channels + c
                                    dst[(rowBase + xb) * depth + channel] = src[i]
                                    i += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
