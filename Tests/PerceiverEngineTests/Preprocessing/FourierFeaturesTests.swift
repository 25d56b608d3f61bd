import Foundation
import Testing
@testable import PerceiverEngine

/// Position grids and Fourier features against `build_linear_positions`, `decoder_query` and
/// `generate_fourier_features` (tools/fixtures/make_prep_fixtures.py).
///
/// Tolerance for sin/cos values: 1e-6 absolute. torch's SLEEF sinf/cosf and glibc's differ by at most one ulp
/// (measured max 6.0e-8 over the full 224×224 and 1920-point audio grids); positions are compared bit for bit.
struct FourierFeaturesTests {
    static let tolerance: Float = 1e-6

    @Test func linearPositionsAreTheRowMajorMeshgridOfLinspaces() {
        let dims = [3, 4, 5]
        let axes = dims.map { torchLinspace(start: -1, end: 1, count: $0) }
        var naive: [Float] = []
        for t in 0..<3 {
            for y in 0..<4 {
                for x in 0..<5 { naive += [axes[0][t], axes[1][y], axes[2][x]] }
            }
        }
        #expect(FourierFeatures.linearPositions(indexDims: dims) == naive)
        #expect(FourierFeatures.linearPositions(indexDims: [4]) == axes[1])
        #expect(FourierFeatures.linearPositions(indexDims: [3, 0]).isEmpty)
        #expect(FourierFeatures.linearPositions(indexDims: []).isEmpty)
    }

    @Test(arguments: [FourierFixtures.grid5x7, FourierFixtures.line6SineOnly, FourierFixtures.video2x3x4])
    func fullGridFeaturesMatchTorch(_ fixture: FullFeatureCase) {
        let d = fixture.indexDims.count
        let count = fixture.indexDims.reduce(1, *)
        let positions = FourierFeatures.linearPositions(indexDims: fixture.indexDims)
        let ours = FourierFeatures.fourierFeatures(
            positions: positions, count: count, dims: d, maxResolution: fixture.maxResolution,
            numBands: fixture.numBands, concatPos: fixture.concatPos, sineOnly: fixture.sineOnly)
        let torch = hexFloats(fixture.bits)
        let width = FourierFeatures.outputSize(
            dims: d, numBands: fixture.numBands, concatPos: fixture.concatPos, sineOnly: fixture.sineOnly)
        #expect(torch.count == count * width)
        #expect(maxAbsDiff(ours, torch) <= Self.tolerance)
        if fixture.concatPos {
            let torchPositions = (0..<count).flatMap { torch[($0 * width)..<($0 * width + d)] }
            #expect(torchPositions.map(\.bitPattern) == positions.map(\.bitPattern))
        }
    }

    /// Naive reference for the channel layout: every output channel decoded from its index, one at a time.
    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func channelLayoutMatchesNaiveReference(concatPos: Bool, sineOnly: Bool) {
        let dims = [3, 4]
        let maxResolution = [10, 7]
        let k = 5
        let positions = FourierFeatures.linearPositions(indexDims: dims)
        let freq = dims.indices.map { torchLinspace(start: 1, end: Float(maxResolution[$0]) / 2, count: k) }
        let pi = Float(bitPattern: 0x4049_0FDB)
        var naive: [Float] = []
        for n in 0..<12 {
            if concatPos { naive += [positions[2 * n], positions[2 * n + 1]] }
            for trig in (sineOnly ? [0] : [0, 1]) {
                for i in 0..<2 {
                    for band in 0..<k {
                        let phase = pi * (positions[2 * n + i] * freq[i][band])
                        naive.append(trig == 0 ? Float.sinReference(phase) : Float.cosReference(phase))
                    }
                }
            }
        }
        let ours = FourierFeatures.fourierFeatures(
            positions: positions, count: 12, dims: 2, maxResolution: maxResolution,
            numBands: k, concatPos: concatPos, sineOnly: sineOnly)
        // Tolerance: one ulp of a value in [-1, 1], for sin/cos computed in Double and rounded.
        #expect(maxAbsDiff(ours, naive) <= 1.2e-7)
    }

    @Test(arguments: [FourierFixtures.subsampledImage, FourierFixtures.subsampledAudio, FourierFixtures.subsampledVideo])
    func subsampledPositionsMatchDecoderQueryBitForBit(_ fixture: SubsampledCase) throws {
        let ours = try FourierFeatures.subsampledPositions(flatIndices: fixture.indices, indexDims: fixture.indexDims)
        #expect(ours.map(\.bitPattern) == hexFloats(fixture.bits).map(\.bitPattern))
    }

    @Test func subsampledPositionsRejectIndicesOutsideTheGridAndBadDimensions() {
        #expect(throws: KernelError.indexOutOfRange(index: 50176, count: 50176)) {
            try FourierFeatures.subsampledPositions(flatIndices: [0, 50176], indexDims: [224, 224])
        }
        #expect(throws: KernelError.indexOutOfRange(index: -1, count: 1920)) {
            try FourierFeatures.subsampledPositions(flatIndices: [-1], indexDims: [1920])
        }
        #expect(throws: KernelError.invalidIndexDimensions([4, -2])) {
            try FourierFeatures.subsampledPositions(flatIndices: [0], indexDims: [4, -2])
        }
        #expect(throws: KernelError.invalidIndexDimensions([Int.max, 3])) {
            try FourierFeatures.subsampledPositions(flatIndices: [0], indexDims: [Int.max, 3])
        }
    }

    @Test func subsampledAudioFeaturesMatchTorch() throws {
        let positions = try FourierFeatures.subsampledPositions(flatIndices: [7, 1919], indexDims: [1920])
        let ours = FourierFeatures.fourierFeatures(
            positions: positions, count: 2, dims: 1, maxResolution: [30720],
            numBands: 192, concatPos: true, sineOnly: false)
        #expect(maxAbsDiff(ours, hexFloats(FourierFixtures.subsampledAudioFeatures)) <= Self.tolerance)
    }

    /// Rows are independent, so the sampled rows are computed alone from their grid positions.
    @Test(arguments: [FourierFixtures.image224, FourierFixtures.audio1920])
    func sampledRowsOfTheCheckpointGridsMatchTorch(_ fixture: SampledFeatureCase) {
        let d = fixture.indexDims.count
        let grid = FourierFeatures.linearPositions(indexDims: fixture.indexDims)
        let positions = fixture.rows.flatMap { grid[($0 * d)..<($0 * d + d)] }
        let ours = FourierFeatures.fourierFeatures(
            positions: positions, count: fixture.rows.count, dims: d, maxResolution: fixture.maxResolution,
            numBands: fixture.numBands, concatPos: true, sineOnly: false)
        let width = FourierFeatures.outputSize(dims: d, numBands: fixture.numBands, concatPos: true, sineOnly: false)
        let picked = fixture.rows.indices.flatMap { r in fixture.channels.map { ours[r * width + $0] } }
        #expect(maxAbsDiff(picked, hexFloats(fixture.bits)) <= Self.tolerance)
    }

    @Test func outputSizesMatchThePublishedCheckpoints() {
        #expect(FourierFeatures.outputSize(dims: 2, numBands: 64, concatPos: true, sineOnly: false) == 258)
        #expect(FourierFeatures.outputSize(dims: 1, numBands: 192, concatPos: true, sineOnly: false) == 385)
        #expect(FourierFeatures.outputSize(dims: 3, numBands: 32, concatPos: true, sineOnly: false) == 195)
        #expect(FourierFeatures.outputSize(dims: 1, numBands: 3, concatPos: false, sineOnly: true) == 3)
    }

    /// `np.pi * tensor` rounds π to the nearest float32; Swift's `Float.pi` is rounded toward zero.
    @Test func usesPiRoundedToNearestNotSwiftsFloatPi() {
        #expect(FourierFeatures.pi.bitPattern == 0x4049_0FDB)
        #expect(Float.pi.bitPattern == 0x4049_0FDA)
        #expect(FourierFeatures.frequencyBands(maxResolution: [224, 5], numBands: 2) == [1, 112, 1, 2.5])
    }
}

extension Float {
    /// sin computed in Double and rounded once: a correctly rounded reference for the layout test.
    static func sinReference(_ x: Float) -> Float { Float(sin(Double(x))) }
    /// cos computed in Double and rounded once.
    static func cosReference(_ x: Float) -> Float { Float(cos(Double(x))) }
}
