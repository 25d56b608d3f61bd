import Testing
@testable import PerceiverEngine
import Support

/// f32 linear layers run as oneDNN 1x1 convolutions (`ConvolutionLinear`): the same products as the matmul,
/// against the same naive reference with the same tolerance, and whole models against `transformers` on both
/// paths, whichever this CPU's `auto` picks.
@Suite struct ConvolutionLinearTests {
    let context: ComputeContext

    init() throws {
        context = try ComputeContext(threads: 2, f32Linear: .convolution)
    }

    private func layer(_ w: [Float], _ b: [Float], n: Int, k: Int) throws -> LinearWeights {
        try LinearWeights(weight: WeightTensor(shape: [n, k], values: w), bias: WeightTensor(shape: [n], values: b),
                          packer: context)
    }

    /// Shapes from one row to the language perceiver's latents against its vocabulary head, and a two-channel
    /// output (the optical-flow head), which may stay a matmul when oneDNN has no direct kernel for it. The
    /// tolerance is the matmul test's: both sum K f32 products in a blocked order, so the rounding grows like
    /// sqrt(K) times the f32 epsilon of terms of size 1, against a reference summed in Double.
    @Test(arguments: [(1, 64, 33), (7, 64, 33), (130, 96, 257), (256, 1280, 262), (5, 322, 2)])
    func linearAsConvolutionMatchesNaiveReference(rows: Int, k: Int, n: Int) throws {
        var rng = SplitMix64(seed: UInt64(rows * 1000 + k))
        let x = rng.floats(rows * k), w = rng.floats(n * k), b = rng.floats(n)
        let layer = try layer(w, b, n: n, k: k)
        let y = try context.run { try layer(x, rows: rows, context: context) }
        let expected = NaiveReference.linear(x, rows: rows, k: k, weight: w, n: n, bias: b)
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 1e-5 * Float(k).squareRoot())
    }

    /// The layer shapes of the language perceiver are packed for the convolution (so the test above ran it).
    @Test(arguments: [(1280, 1280), (1280, 256), (768, 1280), (768, 262)])
    func modelSizedLayersArePackedForTheConvolution(k: Int, n: Int) throws {
        let layer = try layer([Float](repeating: 0.5, count: n * k), [Float](repeating: 0, count: n), n: n, k: k)
        #expect(layer.packed?.layout == .f32Convolution)
    }

    /// GELU and the residual add fused as post-ops, as on the matmul.
    @Test func epiloguesMatchTheNaiveReference() throws {
        var rng = SplitMix64(seed: 11)
        let (rows, k, n) = (33, 64, 48)
        let x = rng.floats(rows * k), w = rng.floats(n * k), b = rng.floats(n), residual = rng.floats(rows * n)
        let layer = try layer(w, b, n: n, k: k)
        #expect(layer.packed?.layout == .f32Convolution)
        let product = NaiveReference.linear(x, rows: rows, k: k, weight: w, n: n, bias: b)
        let activated = try context.run { try layer(x, rows: rows, context: context, gelu: true) }
        // GELU's slope is at most 1.13, so it adds at most that factor to the product's error, plus its own 2e-6.
        #expect(NaiveReference.maxAbsDifference(activated, product.map(NaiveReference.gelu)) <= 1.2e-5 * 8 + 2e-6)
        var accumulated = residual
        try context.run { try layer.accumulate(x, rows: rows, into: &accumulated, context: context) }
        #expect(NaiveReference.maxAbsDifference(accumulated, zip(product, residual).map { $0 + $1 }) <= 1e-5 * 8)
    }

    /// Whole models on either f32 path stay within the parity tolerance of `transformers` (max abs 1e-4,
    /// relative L2 1e-5), whatever `auto` picks on this CPU.
    @Test(arguments: [("mlm_single", F32Linear.matmul), ("mlm_single", .convolution), ("learned_batch", .matmul),
                      ("learned_batch", .convolution), ("flow_patches", .matmul), ("flow_patches", .convolution),
                      ("multimodal_subsampled", .convolution)])
    func bothPathsMatchTransformers(caseName: String, path: F32Linear) throws {
        let fixture = try Fixtures.load(caseName)
        var options = ExecutionOptions()
        options.f32Linear = path
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory(fixture.model), options: options)
        let outputs = try model.predict(fixture.inputs)
        for expected in fixture.outputs {
            let actual = try #require(outputs[expected.name])
            let error = parityError(actual.scalars, expected.tensor.scalars)
            #expect(error.maxAbs <= 1e-4, "\(caseName) \(path) \(expected.name): max abs \(error.maxAbs)")
            #expect(error.relL2 <= 1e-5, "\(caseName) \(path) \(expected.name): relative L2 \(error.relL2)")
        }
    }
}
