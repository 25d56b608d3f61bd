extension ImageOps {
    /// `nn.MaxPool2d(kernel_size=kernel, stride=stride)` (padding 0, floor mode) on channels-last data.
    ///
    /// HF's `Conv2DDownsample` uses kernel 3, stride 2 with no padding, so 112 → 55 (JAX pads SAME and gets 56).
    /// As in torch's CPU kernel, a NaN anywhere in a window makes that output NaN.
    /// - Parameters:
    ///   - x: `(B, H, W, C)`.
    /// - Returns: `values` `(B, OH, OW, C)` with `OH = (H - kernel) / stride + 1` (0 if H < kernel).
    public static func maxPool2d(
        _ x: [Float], batch: Int, height: Int, width: Int, channels: Int,
        kernel: Int = 3, stride: Int = 2
    ) -> (values: [Float], outHeight: Int, outWidth: Int) {
        precondition(x.count == batch * height * width * channels, "x must be (B, H, W, C)")
        let oh = outputLength(size: height, kernel: kernel, stride: stride)
        let ow = outputLength(size: width, kernel: kernel, stride: stride)
        var out = [Float](repeating: -.infinity, count: batch * oh * ow * channels)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    for y in 0..<oh {
                        for xo in 0..<ow {
                            let o = ((b * oh + y) * ow + xo) * channels
                            for kh in 0..<kernel {
                                for kw in 0..<kernel {
                                    let i = ((b * height + y * stride + kh) * width + xo * stride + kw) * channels
                                    for c in 0..<channels {
                                        // torch: `if ((val > maxval) || std::isnan(val))` (max_pool kernel).
                                        let v = src[i + c]
                                        if v > dst[o + c] || v.isNaN { dst[o + c] = v }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (out, oh, ow)
    }
}
