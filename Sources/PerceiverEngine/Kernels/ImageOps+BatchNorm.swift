extension ImageOps {
    /// Per-channel scale and shift of an eval-mode `BatchNorm2d`, rounded exactly as torch's CPU kernel does.
    ///
    /// Mirrors `batch_norm_cpu_collect_linear_and_constant_terms` (ATen `batch_norm_kernel.cpp`), where GCC
    /// contracts `bias - mean * alpha` into one fused multiply-add:
    /// `invstd = 1 / sqrtf(var + eps)`, `scale = invstd * weight`, `shift = fma(-mean, scale, bias)`.
    /// - Parameters: `mean`, `variance`, `weight`, `bias` are `(C)` (`running_mean`, `running_var`, affine).
    /// - Returns: `scale` and `shift`, each `(C)`.
    public static func batchNormCoefficients(
        mean: [Float], variance: [Float], weight: [Float], bias: [Float], epsilon: Float = 1e-5
    ) -> (scale: [Float], shift: [Float]) {
        let channels = mean.count
        precondition(variance.count == channels && weight.count == channels && bias.count == channels,
                     "BatchNorm parameters must all be (C)")
        var scale = [Float](repeating: 0, count: channels)
        var shift = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let invstd = 1 / (variance[c] + epsilon).squareRoot()
            scale[c] = invstd * weight[c]
            shift[c] = bias[c].addingProduct(-mean[c], scale[c])
        }
        return (scale, shift)
    }

    /// Eval-mode `BatchNorm2d` followed by ReLU, in place on channels-last data.
    ///
    /// Bit-exact with torch's CPU path (`batch_norm_cpu_contiguous_impl` / `_channels_last_impl`), which computes
    /// `fma(x, scale, shift)` with the coefficients of `batchNormCoefficients` (not `(x - mean) / sqrt(var + eps)
    /// * weight + bias`, which differs by up to a few ulps). ReLU is torch's `clamp_min(x, 0)`: NaN and -0 pass
    /// through.
    /// - Parameters:
    ///   - x: `(B, H, W, C)` (any leading shape; C is the fastest axis), updated in place.
    ///   - channels: C.
    ///   - mean, variance, weight, bias: `(C)`.
    public static func batchNormReLUInPlace(
        _ x: inout [Float], channels: Int, mean: [Float], variance: [Float],
        weight: [Float], bias: [Float], epsilon: Float = 1e-5
    ) {
        precondition(channels > 0 && mean.count == channels, "mean must be (C)")
        precondition(x.count % channels == 0, "x must be (..., C)")
        let (scale, shift) = batchNormCoefficients(
            mean: mean, variance: variance, weight: weight, bias: bias, epsilon: epsilon)
        let pixels = x.count / channels
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                x.withUnsafeMutableBufferPointer { x in
                    for p in 0..<pixels {
                        let base = p * channels
                        for c in 0..<channels {
                            let y = shift[c].addingProduct(x[base + c], scale[c])
                            x[base + c] = y < 0 ? 0 : y
                        }
                    }
                }
            }
        }
    }
}
