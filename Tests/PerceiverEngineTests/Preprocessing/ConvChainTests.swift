import Testing
@testable import PerceiverEngine

/// HF `Conv2DDownsample` (Conv2dSamePadding 7×7 s2 → BatchNorm2d eval → ReLU → MaxPool2d 3 s2) on a (1, 3, 16, 16)
/// input, step by step against torch (ConvChainFixtures).
struct ConvChainTests {
    /// Conv output `(1, 8, 8, 4)` from im2col and a plain matmul loop.
    static func convolution() -> [Float] {
        let (rows, oh, ow) = ImageOps.im2col(
            ConvChainFixtures.input, batch: 1, channels: 3, height: 16, width: 16,
            kernel: 7, stride: 2, padding: ImageOps.samePadding(kernel: 7))
        #expect(oh == 8 && ow == 8)
        return ImageOpsTests.multiply(rows: rows, weight: ConvChainFixtures.weight, outChannels: 4)
    }

    /// torch sums the 147 products in another order (oneDNN), so the conv agrees to rounding only. Both are within
    /// 9e-8 · Σ|x·w| of the exact sum (checked in float64; Σ|x·w| ≤ 117 here), so the tolerance is 3e-5 absolute
    /// (measured 9.5e-6, 218 of 256 outputs differ in the last bits).
    @Test func convolutionMatchesTorchToRounding() {
        #expect(maxAbsDiff(Self.convolution(), hexFloats(ConvChainFixtures.conv)) <= 3e-5)
    }

    /// Given torch's conv output, BatchNorm + ReLU reproduces torch bit for bit.
    @Test func batchNormReLUOfTorchConvOutputIsBitExact() {
        var x = hexFloats(ConvChainFixtures.conv)
        ImageOps.batchNormReLUInPlace(
            &x, channels: 4, mean: ConvChainFixtures.mean, variance: ConvChainFixtures.variance,
            weight: ConvChainFixtures.scale, bias: ConvChainFixtures.bias)
        #expect(x.map(\.bitPattern) == hexFloats(ConvChainFixtures.batchNormReLU).map(\.bitPattern))
    }

    /// Max pooling selects values, so pooling torch's activations is exact.
    @Test func maxPoolOfTorchActivationsIsBitExact() {
        let (pooled, oh, ow) = ImageOps.maxPool2d(
            hexFloats(ConvChainFixtures.batchNormReLU), batch: 1, height: 8, width: 8, channels: 4)
        #expect(oh == 3 && ow == 3)
        #expect(pooled.map(\.bitPattern) == hexFloats(ConvChainFixtures.pooled).map(\.bitPattern))
    }

    /// The whole chain from pixels. Tolerance: 3e-5 absolute, inherited from the convolution (BatchNorm scales
    /// here are at most 1.27; measured 7.6e-6).
    @Test func wholeChainMatchesTorch() {
        var x = Self.convolution()
        ImageOps.batchNormReLUInPlace(
            &x, channels: 4, mean: ConvChainFixtures.mean, variance: ConvChainFixtures.variance,
            weight: ConvChainFixtures.scale, bias: ConvChainFixtures.bias)
        let (pooled, _, _) = ImageOps.maxPool2d(x, batch: 1, height: 8, width: 8, channels: 4)
        #expect(pooled.count == 36)
        #expect(maxAbsDiff(pooled, hexFloats(ConvChainFixtures.pooled)) <= 3e-5)
    }
}
