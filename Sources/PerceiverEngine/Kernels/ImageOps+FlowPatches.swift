extension ImageOps {
    /// The 3 x 3 patches of each frame, as the optical-flow model takes them: `(B, T, C, H, W)` ->
    /// `(B, T, 9·C, H, W)` with channel `(kh·3 + kw)·C + c` holding pixel `(y + kh - 1, x + kw - 1)` of channel c,
    /// zero outside the frame: TF `extract_patches` with SAME padding, as DeepMind's `patches_for_flow`, the
    /// `transformers` tests and krasserm's `OpticalFlowProcessor` build them (docs/reference/perceiver.md B.9.3).
    /// - Returns: `(B, T, 9·C, H, W)`.
    public static func flowPatches(_ x: [Float], batch: Int, frames: Int, channels: Int, height: Int,
                                   width: Int) -> [Float] {
        precondition(x.count == batch * frames * channels * height * width, "x must be (B, T, C, H, W)")
        let plane = height * width
        var out = [Float](repeating: 0, count: x.count * 9)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for image in 0..<(batch * frames) {
                    let input = src.baseAddress! + image * channels * plane
                    let output = dst.baseAddress! + image * 9 * channels * plane
                    for kh in 0..<3 {
                        for kw in 0..<3 {
                            let (dy, dx) = (kh - 1, kw - 1)
                            for c in 0..<channels {
                                let target = output + ((kh * 3 + kw) * channels + c) * plane
                                let source = input + c * plane
                                for y in max(0, -dy)..<min(height, height - dy) {
                                    let row = target + y * width
                                    let from = source + (y + dy) * width
                                    for xx in max(0, -dx)..<min(width, width - dx) { row[xx] = from[xx + dx] }
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
