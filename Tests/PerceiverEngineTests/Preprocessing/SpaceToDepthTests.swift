import Testing
@testable import PerceiverEngine

/// `ImageOps.spaceToDepth` against HF `space_to_depth` on `arange` inputs (values are source indices) and against
/// a naive view/permute reference.
struct SpaceToDepthTests {
    @Test func matchesHFForAFourDimensionalImage() {
        // space_to_depth(arange(48).reshape(1, 2, 4, 6), spatial_block_size=2) → (1, 2, 3, 8)
        let hf = [0, 24, 1, 25, 6, 30, 7, 31, 2, 26, 3, 27, 8, 32, 9, 33, 4, 28, 5, 29, 10, 34, 11, 35,
                  12, 36, 13, 37, 18, 42, 19, 43, 14, 38, 15, 39, 20, 44, 21, 45, 16, 40, 17, 41, 22, 46, 23, 47]
        let ours = ImageOps.spaceToDepth(
            (0..<48).map(Float.init), batch: 1, channels: 2, height: 4, width: 6, blockSize: 2)
        #expect(ours == hf.map(Float.init))
    }

    @Test func matchesHFForAFiveDimensionalVideo() {
        // space_to_depth(arange(64).reshape(1, 2, 2, 4, 4), temporal_block_size=2, spatial_block_size=2)
        // → (1, 1, 2, 2, 16)
        let hf = [0, 16, 1, 17, 4, 20, 5, 21, 32, 48, 33, 49, 36, 52, 37, 53, 2, 18, 3, 19, 6, 22, 7, 23,
                  34, 50, 35, 51, 38, 54, 39, 55, 8, 24, 9, 25, 12, 28, 13, 29, 40, 56, 41, 57, 44, 60, 45, 61,
                  10, 26, 11, 27, 14, 30, 15, 31, 42, 58, 43, 59, 46, 62, 47, 63]
        let ours = ImageOps.spaceToDepth(
            (0..<64).map(Float.init), batch: 1, time: 2, channels: 2, height: 4, width: 4,
            temporalBlockSize: 2, spatialBlockSize: 2)
        #expect(ours == hf.map(Float.init))
    }

    /// Naive reference: for each output element, decode its channel into (dt, dh, dw, c) and read the source.
    /// `height`/`width` are the block counts H/s, W/s.
    @Test(arguments: [(2, 4, 3, 2, 6, 2, 3), (1, 2, 1, 3, 4, 1, 2), (2, 1, 2, 1, 2, 1, 1)])
    func matchesNaiveViewPermuteReference(
        batch: Int, time: Int, channels: Int, height: Int, width: Int, t: Int, s: Int
    ) {
        let (h, w) = (height * s, width * s)
        let x = (0..<(batch * time * channels * h * w)).map(Float.init)
        let ours = ImageOps.spaceToDepth(x, batch: batch, time: time, channels: channels, height: h, width: w,
                                         temporalBlockSize: t, spatialBlockSize: s)
        let depth = t * s * s * channels
        var naive: [Float] = []
        for b in 0..<batch { for tb in 0..<(time / t) { for yb in 0..<height { for xb in 0..<width {
            for ch in 0..<depth {
                let c = ch % channels
                let dw = (ch / channels) % s
                let dh = (ch / channels / s) % s
                let dt = ch / channels / s / s
                let (tt, y, xx) = (tb * t + dt, yb * s + dh, xb * s + dw)
                naive.append(x[(((b * time + tt) * channels + c) * h + y) * w + xx])
            }
        } } } }
        #expect(ours == naive)
    }
}
