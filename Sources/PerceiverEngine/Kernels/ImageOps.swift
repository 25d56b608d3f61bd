/// Image-layout kernels for the Perceiver image preprocessors (docs/reference/perceiver.md B.9): layout changes, im2col
/// for the 7×7 stride-2 convolution, eval-mode BatchNorm + ReLU, max pooling and space-to-depth.
///
/// Shape letters: B batch, C channels, H height, W width, K kernel size, OH/OW output height/width.
/// All tensors are row-major flat `[Float]` arrays. Buffer sizes are engine-internal contracts checked with
/// `precondition`; request shapes must be validated before they reach these functions.
public enum ImageOps {
    /// Zero padding of HF's `Conv2dSamePadding` for a square kernel `k`.
    ///
    /// Mirrors `Conv2dSamePadding.__init__`: `ZeroPad2d` with `k//2 + (k - 2*(k//2)) - 1` before and `k//2`
    /// after each spatial axis. For k = 7 that is (3, 3, 3, 3), so 224 → 112 at stride 2; TensorFlow's SAME would
    /// pad (2, 3). Even kernels pad one less before than after.
    public static func samePadding(kernel k: Int) -> (top: Int, left: Int, bottom: Int, right: Int) {
        let before = k / 2 + (k - 2 * (k / 2)) - 1
        let after = k / 2
        return (top: before, left: before, bottom: after, right: after)
    }

    /// Output length of a convolution or pooling window along one axis (`floor` mode, as torch).
    /// - Returns: `(size + padBefore + padAfter - kernel) / stride + 1`, or 0 if the window does not fit.
    public static func outputLength(size: Int, kernel: Int, stride: Int, padBefore: Int = 0, padAfter: Int = 0) -> Int {
        precondition(kernel > 0 && stride > 0, "kernel and stride must be positive")
        let span = size + padBefore + padAfter - kernel
        return span < 0 ? 0 : span / stride + 1
    }

    /// Channels-first to channels-last: `(B, C, H, W)` → `(B, H, W, C)`.
    ///
    /// Mirrors the `permute(0, 2, 3, 1)` at the end of `PerceiverImagePreprocessor`'s conv path.
    /// - Returns: `(B, H, W, C)`.
    public static func nchwToNHWC(_ x: [Float], batch: Int, channels: Int, height: Int, width: Int) -> [Float] {
        let plane = height * width
        precondition(x.count == batch * channels * plane, "x must be (B, C, H, W)")
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let base = b * channels * plane
                    // Walk the source contiguously, one channel plane at a time; the writes stride by C.
                    for c in 0..<channels {
                        let srcPlane = base + c * plane
                        for p in 0..<plane {
                            dst[base + p * channels + c] = src[srcPlane + p]
                        }
                    }
                }
            }
        }
        return out
    }
}
