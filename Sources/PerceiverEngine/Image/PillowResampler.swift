/// Pillow's two-pass separable resize of 8-bit images (libImaging/Resample.c `ImagingResample`), reproduced so the
/// output bytes equal `PIL.Image.resize(size, resample)` on an RGB image: per axis, filter weights over a support
/// widened by the downscale factor, normalised, rounded to 22-bit fixed point; a horizontal pass into 8-bit rows
/// (rounded, clipped), then a vertical pass over those rows.
struct PillowResampler {
    /// For one axis: output index i reads `count[i]` inputs from `first[i]` with weights
    /// `weights[i * kernelSize ..< i * kernelSize + count[i]]`.
    struct Coefficients {
        var kernelSize: Int
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
    }

    /// `PRECISION_BITS`: 32 - 8 (result) - 2 (overshoot of negative lobes and sums above 1).
    static let precisionBits = 22

    /// Resample.c `precompute_coeffs` then `normalize_coeffs_8bpc`, for the whole axis (box 0 ..< inSize).
    static func coefficients(inSize: Int, outSize: Int, filter: ResamplingFilter) -> Coefficients {
        // The box is a float[4] in C: in1 - in0 is a float subtraction before the double division.
        let (in0, in1) = (Float(0), Float(inSize))
        let scale = Double(in1 - in0) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize), count = first
        var weights = [Int32](repeating: 0, count: outSize * kernelSize)
        var row = [Double](repeating: 0, count: kernelSize)
        for xx in 0..<outSize {
            let center = Double(in0) + (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            // (int) casts truncate toward zero, as Swift's Int(Double) does.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<xmax {
                row[x] = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                total += row[x]
            }
            for x in 0..<xmax {
                let w = total != 0 ? row[x] / total : row[x]
                let fixed = w * Double(1 << precisionBits)
                weights[xx * kernelSize + x] = Int32(w < 0 ? -0.5 + fixed : 0.5 + fixed)
            }
            first[xx] = xmin
            count[xx] = xmax
        }
        return Coefficients(kernelSize: kernelSize, first: first, count: count, weights: weights)
    }

    /// Resample.c `clip8`: the fixed-point sum shifted down (arithmetically) and clamped to 0...255.
    @inline(__always)
    static func clip8(_ sum: Int) -> UInt8 {
        let value = sum >> precisionBits
        return value < 0 ? 0 : value > 255 ? 255 : UInt8(value)
    }

    /// Resizes interleaved 8-bit pixels (height, width, channels) to (outHeight, outWidth, channels).
    static func resize(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth outWidth: Int,
                       height outHeight: Int, filter: ResamplingFilter) -> [UInt8] {
        if outWidth == width && outHeight == height { return pixels }  // PIL returns a copy
        let vertical = coefficients(inSize: height, outSize: outHeight, filter: filter)
        var source = pixels
        // Rows the vertical pass reads: the horizontal pass only computes these (as ImagingResampleInner does).
        var firstRow = 0, rows = height
        if outWidth != width {
            firstRow = vertical.first[0]
            rows = vertical.first[outHeight - 1] + vertical.count[outHeight - 1] - firstRow
            source = horizontal(pixels, width: width, channels: channels, rows: firstRow..<(firstRow + rows),
                                coefficients: coefficients(inSize: width, outSize: outWidth, filter: filter))
        }
        guard outHeight != height else { return source }
        return verticalPass(source, width: outWidth, channels: channels, rowOffset: firstRow, outHeight: outHeight,
                            coefficients: vertical)
    }

    /// Resample.c `ImagingResampleHorizontal_8bpc` over `rows`: (rows, width, C) -> (rows, outWidth, C).
    private static func horizontal(_ pixels: [UInt8], width: Int, channels: Int, rows: Range<Int>,
                                   coefficients k: Coefficients) -> [UInt8] {
        let outWidth = k.first.count
        var out = [UInt8](repeating: 0, count: rows.count * outWidth * channels)
        let half = 1 << (precisionBits - 1)
        pixels.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for (outRow, y) in rows.enumerated() {
                    let rowBase = y * width * channels
                    for xx in 0..<outWidth {
                        let (xmin, count, kBase) = (k.first[xx], k.count[xx], xx * k.kernelSize)
                        for c in 0..<channels {
                            var sum = half
                            for x in 0..<count {
                                sum += Int(input[rowBase + (xmin + x) * channels + c]) * Int(k.weights[kBase + x])
                            }
                            output[(outRow * outWidth + xx) * channels + c] = clip8(sum)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Resample.c `ImagingResampleVertical_8bpc`; row indices are shifted by `rowOffset` (the first row the
    /// horizontal pass kept).
    private static func verticalPass(_ pixels: [UInt8], width: Int, channels: Int, rowOffset: Int, outHeight: Int,
                                     coefficients k: Coefficients) -> [UInt8] {
        let stride = width * channels
        var out = [UInt8](repeating: 0, count: outHeight * stride)
        let half = 1 << (precisionBits - 1)
        pixels.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for yy in 0..<outHeight {
                    let (ymin, count, kBase) = (k.first[yy] - rowOffset, k.count[yy], yy * k.kernelSize)
                    for i in 0..<stride {
                        var sum = half
                        for y in 0..<count {
                            sum += Int(input[(ymin + y) * stride + i]) * Int(k.weights[kBase + y])
                        }
                        output[yy * stride + i] = clip8(sum)
                    }
                }
            }
        }
        return out
    }
}
