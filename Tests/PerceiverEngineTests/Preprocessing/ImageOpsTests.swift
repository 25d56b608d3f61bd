import Testing
@testable import PerceiverEngine

/// Layout, im2col, BatchNorm, ReLU and max-pool kernels against naive references, and HF's `Conv2DDownsample`
/// chain against torch (ConvChainFixtures).
struct ImageOpsTests {
    @Test func samePaddingAndOutputSizesMatchHFConv2dSamePadding() {
        let pad = ImageOps.samePadding(kernel: 7)
        #expect(pad == (top: 3, left: 3, bottom: 3, right: 3))
        #expect(ImageOps.samePadding(kernel: 4) == (top: 1, left: 1, bottom: 2, right: 2))
        #expect(ImageOps.samePadding(kernel: 1) == (top: 0, left: 0, bottom: 0, right: 0))
        // Sizes measured with HF's Conv2dSamePadding(k 7, s 2) then MaxPool2d(3, 2).
        for (input, conv, pooled) in [(224, 112, 55), (16, 8, 3), (15, 8, 3), (9, 5, 2), (6, 3, 1)] {
            let c = ImageOps.outputLength(size: input, kernel: 7, stride: 2, padBefore: 3, padAfter: 3)
            #expect(c == conv)
            #expect(ImageOps.outputLength(size: c, kernel: 3, stride: 2) == pooled)
        }
        #expect(ImageOps.outputLength(size: 2, kernel: 3, stride: 2) == 0)
    }

    @Test func nchwToNHWCMatchesNaiveIndexing() {
        let (b, c, h, w) = (2, 3, 4, 5)
        let x = (0..<(b * c * h * w)).map(Float.init)
        let ours = ImageOps.nchwToNHWC(x, batch: b, channels: c, height: h, width: w)
        var naive: [Float] = []
        for bb in 0..<b { for y in 0..<h { for xx in 0..<w { for cc in 0..<c {
            naive.append(x[((bb * c + cc) * h + y) * w + xx])
        } } } }
        #expect(ours == naive)
    }

    /// im2col rows times the OIHW weight must equal a direct convolution (naive 7-deep loop). The products are
    /// summed in the same (c, kh, kw) order and padded taps add exact zeros, so the tolerance is 0.
    @Test(arguments: [(16, 16, 2, 7), (15, 15, 2, 7), (9, 6, 2, 7), (7, 8, 1, 3), (5, 5, 3, 4)])
    func im2colTimesWeightEqualsDirectConvolution(height: Int, width: Int, stride: Int, kernel: Int) {
        let (batch, inC, outC) = (2, 3, 4)
        let x = ConvChainFixtures.lcg(count: batch * inC * height * width, seed: 5, denominator: 61)
        let weight = ConvChainFixtures.lcg(count: outC * inC * kernel * kernel, seed: 6, denominator: 97)
        let pad = ImageOps.samePadding(kernel: kernel)
        let (rows, oh, ow) = ImageOps.im2col(
            x, batch: batch, channels: inC, height: height, width: width, kernel: kernel, stride: stride, padding: pad)
        let ours = Self.multiply(rows: rows, weight: weight, outChannels: outC)
        let naive = Self.directConvolutionNHWC(
            x, weight, shape: (batch, inC, height, width), outChannels: outC, kernel: kernel, stride: stride,
            pad: (pad.top, pad.left), out: (oh, ow))
        #expect(oh == ImageOps.outputLength(size: height, kernel: kernel, stride: stride, padBefore: pad.top, padAfter: pad.bottom))
        #expect(ours.count == batch * oh * ow * outC)
        #expect(ours == naive)
    }

    /// Naive reference: `(x - mean) / sqrt(var + eps) * weight + bias`, then ReLU, in Double. Tolerance 1e-5
    /// relative (torch's folded form rounds differently; the bit-exact check is the torch fixture below).
    @Test func batchNormReLUMatchesTheTextbookFormula() {
        let channels = 5
        let params = Self.batchNormParameters(channels: channels)
        let x = ConvChainFixtures.lcg(count: 7 * channels, seed: 21, denominator: 7)
        var ours = x
        ImageOps.batchNormReLUInPlace(&ours, channels: channels, mean: params.mean, variance: params.variance,
                                      weight: params.weight, bias: params.bias)
        for (i, value) in x.enumerated() {
            let c = i % channels
            let normalized = (Double(value) - Double(params.mean[c])) / (Double(params.variance[c]) + 1e-5).squareRoot()
            let expected = max(0, normalized * Double(params.weight[c]) + Double(params.bias[c]))
            #expect(abs(Double(ours[i]) - expected) <= 1e-5 * max(1, abs(expected)), "i = \(i)")
        }
    }

    /// torch (measured): bias -0, input [nan, -0, -2, 0] → relu(bn(x)) = [nan, -0, 0, 0].
    @Test func reluKeepsNaNAndNegativeZeroLikeTorchClampMin() {
        var x: [Float] = [.nan, -0.0, -2, 0]
        ImageOps.batchNormReLUInPlace(&x, channels: 1, mean: [0], variance: [1 - 1e-5], weight: [1], bias: [-0.0])
        #expect(x[0].isNaN)
        #expect(x[1] == 0 && x[1].sign == .minus)
        #expect(x[2] == 0 && x[2].sign == .plus)
        #expect(x[3] == 0 && x[3].sign == .plus)
    }

    @Test(arguments: [(112, 112, 3, 2), (8, 8, 3, 2), (7, 10, 3, 2), (5, 5, 2, 1), (2, 2, 3, 2)])
    func maxPoolMatchesNaiveReference(height: Int, width: Int, kernel: Int, stride: Int) {
        let (batch, channels) = (2, 3)
        let x = ConvChainFixtures.lcg(count: batch * height * width * channels, seed: 9, denominator: 13)
        let (ours, oh, ow) = ImageOps.maxPool2d(
            x, batch: batch, height: height, width: width, channels: channels, kernel: kernel, stride: stride)
        var naive: [Float] = []
        for b in 0..<batch { for y in 0..<oh { for xo in 0..<ow { for c in 0..<channels {
            var best = -Float.infinity
            for kh in 0..<kernel { for kw in 0..<kernel {
                best = max(best, x[((b * height + y * stride + kh) * width + xo * stride + kw) * channels + c])
            } }
            naive.append(best)
        } } } }
        #expect(ours == naive)
    }

    @Test func maxPoolPropagatesNaNLikeTorch() {
        var x = [Float](repeating: 0, count: 25)
        x[6] = .nan
        let (out, oh, ow) = ImageOps.maxPool2d(x, batch: 1, height: 5, width: 5, channels: 1)
        #expect(oh == 2 && ow == 2)
        #expect(out[0].isNaN && out[1] == 0 && out[2] == 0 && out[3] == 0)
    }
}
