extension ImageOps {
    /// Unfolds the receptive fields of a zero-padded convolution into rows, so that the convolution becomes one
    /// matrix product with a PyTorch OIHW weight reshaped to `(O, C·K·K)`: `out = rows · Wᵀ`.
    ///
    /// Row `(b·OH + oh)·OW + ow` holds the window whose top-left input pixel is
    /// `(oh·stride − top, ow·stride − left)`; its columns run over `(c, kh, kw)` with kw fastest, the order of
    /// `weight.reshape(O, -1)`. Pixels outside the image read as 0 (`nn.ZeroPad2d`). Rows of the result are
    /// therefore in NHWC order once multiplied. For HF's conv preprocessor use `samePadding(kernel: 7)`, stride 2.
    /// - Parameters:
    ///   - x: `(B, C, H, W)`.
    ///   - kernel: K (square).
    ///   - stride: the same along both axes.
    ///   - padding: zeros added on each side.
    /// - Returns: `rows` `(B·OH·OW, C·K·K)` and the output size.
    public static func im2col(
        _ x: [Float], batch: Int, channels: Int, height: Int, width: Int,
        kernel: Int, stride: Int, padding: (top: Int, left: Int, bottom: Int, right: Int)
    ) -> (rows: [Float], outHeight: Int, outWidth: Int) {
        precondition(x.count == batch * channels * height * width, "x must be (B, C, H, W)")
        let oh = outputLength(size: height, kernel: kernel, stride: stride,
                              padBefore: padding.top, padAfter: padding.bottom)
        let ow = outputLength(size: width, kernel: kernel, stride: stride,
                              padBefore: padding.left, padAfter: padding.right)
        let columns = channels * kernel * kernel
        var rows = [Float](repeating: 0, count: batch * oh * ow * columns)
        x.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    for y in 0..<oh {
                        for xo in 0..<ow {
                            let row = ((b * oh + y) * ow + xo) * columns
                            let window = Window(top: y * stride - padding.top, left: xo * stride - padding.left)
                            copyWindow(src, into: dst, at: row, window: window,
                                       image: (b, channels, height, width), kernel: kernel)
                        }
                    }
                }
            }
        }
        return (rows, oh, ow)
    }

    /// Top-left input coordinate of one receptive field (may be negative inside the padding).
    private struct Window {
        let top: Int
        let left: Int
    }

    /// Copies one `(C, K, K)` receptive field into `dst[row...]`, leaving padded positions at 0.
    private static func copyWindow(
        _ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<Float>, at row: Int,
        window: Window, image: (b: Int, c: Int, h: Int, w: Int), kernel: Int
    ) {
        // Clip the kernel's column range to the image once; rows outside the image are skipped whole.
        let kwStart = max(0, -window.left)
        let kwEnd = min(kernel, image.w - window.left)
        guard kwStart < kwEnd else { return }
        for c in 0..<image.c {
            let plane = (image.b * image.c + c) * image.h * image.w
            for kh in 0..<kernel {
                let iy = window.top + kh
                guard iy >= 0, iy < image.h else { continue }
                let srcRow = plane + iy * image.w + window.left
                let dstRow = row + (c * kernel + kh) * kernel
                for kw in kwStart..<kwEnd {
                    dst[dstRow + kw] = src[srcRow + kw]
                }
            }
        }
    }
}
