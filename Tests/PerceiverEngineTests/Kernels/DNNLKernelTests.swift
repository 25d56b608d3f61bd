import Testing
@testable import PerceiverEngine
import Support

/// oneDNN-backed kernels against the naive references, with stated tolerances.
@Suite struct DNNLKernelTests {
    let context: ComputeContext

    init() throws {
        context = try ComputeContext(threads: 2)
    }

    @Test(arguments: [(1, 3, 5), (7, 64, 33), (130, 96, 257)])
    func linearMatchesNaiveReference(rows: Int, k: Int, n: Int) throws {
        var rng = SplitMix64(seed: UInt64(rows * 1000 + k))
        let x = rng.floats(rows * k), w = rng.floats(n * k), b = rng.floats(n)
        let layer = try LinearWeights(weight: WeightTensor(shape: [n, k], values: w),
                                  bias: WeightTensor(shape: [n], values: b))
        let y = try context.run { try layer(x, rows: rows, context: context) }
        let expected = NaiveReference.linear(x, rows: rows, k: k, weight: w, n: n, bias: b)
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 1e-5 * Float(k).squareRoot())
    }

    @Test func geluEpilogueIsTheExactErfForm() throws {
        // A wide input range, where the tanh approximation would be off by up to 4.7e-4.
        let rows = 64, k = 1, n = 1
        let x = (0..<rows).map { Float($0 - 32) / 6 }
        let layer = try LinearWeights(weight: WeightTensor(shape: [n, k], values: [1]),
                                  bias: WeightTensor(shape: [n], values: [0]))
        let y = try context.run { try layer(x, rows: rows, context: context, gelu: true) }
        #expect(NaiveReference.maxAbsDifference(y, x.map(NaiveReference.gelu)) <= 2e-6)
    }

    @Test func accumulateAddsIntoTheResidual() throws {
        var rng = SplitMix64(seed: 5)
        let (rows, k, n) = (9, 16, 12)
        let x = rng.floats(rows * k), w = rng.floats(n * k), b = rng.floats(n)
        let residual = rng.floats(rows * n)
        let layer = try LinearWeights(weight: WeightTensor(shape: [n, k], values: w),
                                  bias: WeightTensor(shape: [n], values: b))
        var y = residual
        try context.run { try layer.accumulate(x, rows: rows, into: &y, context: context) }
        let product = NaiveReference.linear(x, rows: rows, k: k, weight: w, n: n, bias: b)
        let expected = zip(product, residual).map { $0 + $1 }
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 1e-5)
    }

    // Channel counts below, at and off a multiple of the kernel's 16 lanes; the latents' and the byte queries' widths.
    @Test(arguments: [(1, 8), (5, 64), (3, 17), (33, 1280), (256, 1280), (7, 768)])
    func layerNormMatchesNaiveReference(rows: Int, channels: Int) throws {
        var rng = SplitMix64(seed: UInt64(channels))
        // An offset mean stresses one-pass variance formulas.
        let x = rng.floats(rows * channels, scale: 3).map { $0 + 10 }
        let gamma = rng.floats(channels), beta = rng.floats(channels)
        let norm = LayerNormWeights(gamma: WeightTensor(shape: [channels], values: gamma),
                                    beta: WeightTensor(shape: [channels], values: beta))
        let y = try context.run { try norm(x, rows: rows, context: context) }
        let expected = NaiveReference.layerNorm(x, rows: rows, c: channels, gamma: gamma, beta: beta)
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 2e-5)
    }

    @Test(arguments: [(1, 1), (4, 7), (16, 2048)])
    func softmaxMatchesNaiveReference(rows: Int, columns: Int) throws {
        var rng = SplitMix64(seed: UInt64(columns))
        var x = rng.floats(rows * columns, scale: 20)
        let expected = NaiveReference.softmax(x, rows: rows, c: columns)
        try context.run {
            try x.withUnsafeMutableBufferPointer {
                try context.softmax(rows: rows, columns: columns, data: $0.baseAddress!)
            }
        }
        #expect(NaiveReference.maxAbsDifference(x, expected) <= 1e-6)
    }

    @Test func softmaxOfMaskedScoresIsZeroAndOfFullyMaskedRowIsUniform() throws {
        let minimum = -Float.greatestFiniteMagnitude
        // Row 0: two keys masked by adding finfo.min; row 1: every key masked.
        var x: [Float] = [1, 2 + minimum, 3, 4 + minimum, 0.5 + minimum, 0.25 + minimum, minimum, 7 + minimum]
        try context.run {
            try x.withUnsafeMutableBufferPointer { try context.softmax(rows: 2, columns: 4, data: $0.baseAddress!) }
        }
        #expect(x[1] == 0 && x[3] == 0)
        #expect(abs(x[0] + x[2] - 1) < 1e-6)
        #expect(x[4...].allSatisfy { abs($0 - 0.25) < 1e-6 })
    }

    @Test func primitivesAreCreatedOncePerShape() throws {
        let layer = try LinearWeights(weight: WeightTensor(shape: [4, 3], values: [Float](repeating: 0.5, count: 12)),
                                  bias: nil)
        let x = [Float](repeating: 1, count: 6)
        _ = try context.run { try layer(x, rows: 2, context: context) }
        let after = context.run { context.primitiveCount }
        for _ in 0..<5 { _ = try context.run { try layer(x, rows: 2, context: context) } }
        #expect(context.run { context.primitiveCount } == after)
        _ = try context.run { try layer(x + x, rows: 4, context: context) }
        #expect(context.run { context.primitiveCount } == after + 1)
    }
}

@Suite struct PrimitiveCacheTests {
    /// The cache keeps at most its capacity per kind, evicting the least recently used shape.
    @Test func theCacheIsBoundedAndEvictsTheLeastRecentlyUsedShape() throws {
        let context = try ComputeContext(threads: 1, cacheCapacity: 2)
        let layer = try LinearWeights(weight: WeightTensor(shape: [4, 3], values: [Float](repeating: 0.5, count: 12)),
                                  bias: nil)
        func run(rows: Int) throws -> [Float] {
            try context.run { try layer([Float](repeating: 1, count: rows * 3), rows: rows, context: context) }
        }
        _ = try run(rows: 1)
        _ = try run(rows: 2)
        _ = try run(rows: 1)
        _ = try run(rows: 3)   // evicts rows 2, the least recently used
        #expect(context.run { context.primitiveCount } == 2)
        #expect(try run(rows: 2) == [Float](repeating: 1.5, count: 8))
        #expect(context.run { context.primitiveCount } == 2)
    }
}
