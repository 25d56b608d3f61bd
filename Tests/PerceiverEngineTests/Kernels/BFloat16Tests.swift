import Foundation
import Testing
@testable import PerceiverEngine
import Support

/// The f32 → bf16 conversion and bf16 matmuls against naive references.
@Suite struct BFloat16Tests {
    /// Round to nearest even by comparing the two neighbouring bf16 values in Double: the naive reference.
    static func naiveBF16(_ x: Float) -> Float {
        if x.isNaN { return .nan }
        let bits = x.bitPattern
        let low = Float(bitPattern: bits & 0xffff_0000)
        guard bits & 0xffff != 0, low.isFinite else { return low }
        let high = Float(bitPattern: (bits & 0xffff_0000) &+ 0x1_0000)
        // Past the largest bf16, rounding goes to infinity as if it were the next step (2^128).
        let highValue = high.isInfinite ? (high < 0 ? -0x1p128 : 0x1p128) : Double(high)
        let (dl, dh) = (abs(Double(x) - Double(low)), abs(highValue - Double(x)))
        if dl != dh { return dl < dh ? low : high }
        return (bits >> 16) & 1 == 0 ? low : high
    }

    @Test func conversionRoundsToNearestEven() {
        var rng = SplitMix64(seed: 16)
        var values = rng.floats(1000, scale: 100) + [0, -0, 1, -1, .infinity, -.infinity, .nan,
                                                     .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                                                     Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000),
                                                     Float(bitPattern: 0x3f80_7fff), Float(bitPattern: 0x7f80_0001)]
        values += (0..<37).map { Float(bitPattern: UInt32($0) * 0x1_2345) }  // subnormals; a tail past 16 lanes
        let converted = values.withUnsafeBufferPointer { BFloat16.array($0) }
        for (x, b) in zip(values, converted) {
            let actual = BFloat16.float(b), expected = Self.naiveBF16(x)
            #expect(actual.bitPattern == expected.bitPattern || (actual.isNaN && expected.isNaN), "\(x)")
            #expect(b == BFloat16.from(x) || x.isNaN, "vector and scalar paths differ at \(x)")
        }
    }

    @Test(.needsBF16Matmuls, arguments: [(1, 3, 5), (7, 64, 33), (130, 96, 257), (256, 768, 262)])
    func packedLinearMatchesNaiveProductOfRoundedOperands(rows: Int, k: Int, n: Int) throws {
        let context = try ComputeContext(threads: 2, precision: .bf16)
        var rng = SplitMix64(seed: UInt64(rows * 1000 + k))
        let x = rng.floats(rows * k), w = rng.floats(n * k), b = rng.floats(n)
        let layer = try LinearWeights(weight: WeightTensor(shape: [n, k], values: w),
                                      bias: WeightTensor(shape: [n], values: b), packer: context)
        #expect(layer.packed != nil)
        let y = try context.run { try layer(x, rows: rows, context: context) }
        // bf16 products are exact in f32, so only the accumulation order differs from the reference.
        let expected = NaiveReference.linear(x.map(Self.naiveBF16), rows: rows, k: k, weight: w.map(Self.naiveBF16),
                                             n: n, bias: b)
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 1e-5 * Float(k).squareRoot())
    }

    @Test(.needsBF16Matmuls) func attentionConvertsQueriesKeysValuesAndProbabilities() throws {
        let context = try ComputeContext(threads: 2, precision: .bf16)
        var rng = SplitMix64(seed: 3)
        let (batch, nq, nk, heads, dqk, dv) = (2, 5, 9, 2, 4, 3)
        let q = rng.floats(batch * nq * heads * dqk, scale: 3), k = rng.floats(batch * nk * heads * dqk, scale: 3)
        let v = rng.floats(batch * nk * heads * dv, scale: 3)
        let attention = MultiHeadAttention(heads: heads, qkChannels: heads * dqk, vChannels: heads * dv)
        let out = try context.run {
            try attention(q: q, k: k, v: v, batch: batch, queryRows: nq, keyRows: nk, keyBias: nil, context: context)
        }
        /// Attention computed naively, with `round` applied to Q, K, V and the softmax probabilities.
        func reference(_ round: (Float) -> Float) -> [Float] {
            let (qr, kr, vr) = (q.map(round), k.map(round), v.map(round))
            var expected = [Float](repeating: 0, count: out.count)
            for b in 0..<batch {
                for h in 0..<heads {
                    for i in 0..<nq {
                        let scores = (0..<nk).map { j in
                            (0..<dqk).reduce(Float(0)) { sum, d in
                                sum + qr[((b * nq + i) * heads + h) * dqk + d] * kr[((b * nk + j) * heads + h) * dqk + d]
                            } / Float(dqk).squareRoot()
                        }
                        let p = NaiveReference.softmax(scores, rows: 1, c: nk).map(round)
                        for d in 0..<dv {
                            expected[((b * nq + i) * heads + h) * dv + d] = (0..<nk).reduce(Float(0)) { sum, j in
                                sum + p[j] * vr[((b * nk + j) * heads + h) * dv + d]
                            }
                        }
                    }
                }
            }
            return expected
        }
        let rounded = NaiveReference.maxAbsDifference(out, reference(Self.naiveBF16))
        let unrounded = NaiveReference.maxAbsDifference(out, reference { $0 })
        // A probability next to a rounding boundary may round the other way (one bf16 step, 2^-8 relative);
        // f32 math would be measurably further away.
        #expect(rounded <= 5e-3, "vs bf16-rounded reference: \(rounded)")
        #expect(unrounded > 4 * rounded, "vs f32 reference: \(unrounded), vs bf16: \(rounded)")
    }

    @Test func reorderConversionEqualsTheScalarRounding() throws {
        let context = try ComputeContext(threads: 2, precision: .bf16)
        var rng = SplitMix64(seed: 17)
        let values = rng.floats(4000, scale: 50) + [0, -0, .infinity, -.infinity, .greatestFiniteMagnitude,
                                                   Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000),
                                                   Float(bitPattern: 0x0000_1234), Float(bitPattern: 0x8040_0000)]
        let converted = try context.run { () throws(InferenceError) -> [UInt16] in
            let pointer = try values.withUnsafeBufferPointer { (v) throws(InferenceError) in
                try context.bf16(v.baseAddress!, count: v.count)
            }
            return Array(UnsafeBufferPointer(start: pointer, count: values.count))
        }
        // oneDNN's conversion flushes f32 subnormals (below 1.2e-38) to a signed zero; all else rounds alike.
        let expected = values.map { $0.isSubnormal ? ($0.sign == .minus ? 0x8000 : 0) : BFloat16.from($0) }
        let mismatches = zip(values, zip(converted, expected)).filter { $1.0 != $1.1 }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).map { ($0.0, $0.1) })")
    }

    @Test(.needsBF16Matmuls) func chunkedBF16ProjectionMatchesF32AcrossChunkBoundaries() throws {
        // A cross-attention over more key rows than one projection chunk (16,384) converts chunk by chunk.
        let shape = PerceiverLayer.Shape(isCross: true, queryDim: 8, keyValueDim: 6, qkChannels: 8, vChannels: 8,
                                         heads: 1, wideningFactor: 1, useQueryResidual: true)
        let (f32, bf16) = (try ComputeContext(threads: 2), try ComputeContext(threads: 2, precision: .bf16))
        let packed = RandomWeights(seed: 9)
        packed.packer = bf16
        let layers = (try PerceiverLayer(RandomWeights(seed: 9), "x", shape), try PerceiverLayer(packed, "x", shape))
        let rows = PerceiverLayer.projectionChunkRows + 1000
        var rng = SplitMix64(seed: 21)
        let input = rng.floats(rows * 6)
        let exact = try f32.run { try layers.0.project(input, batch: 1, rows: rows, bias: nil, context: f32) }
        let rounded = try bf16.run { try layers.1.project(input, batch: 1, rows: rows, bias: nil, context: bf16) }
        for (a, b) in [(exact.k, rounded.k), (exact.v, rounded.v)] {
            guard case .f32(let a) = a, case .bf16(let b) = b else {
                Issue.record("expected f32 and bf16 keys and values")
                continue
            }
            let widened = b.map(BFloat16.float)
            #expect(a.count == widened.count)
            // Every row, on both sides of the chunk boundary, within bf16 rounding of the f32 projection.
            #expect(NaiveReference.maxAbsDifference(a, widened) <= 0.05)
            #expect(NaiveReference.maxAbsDifference(a, widened) > 0)
        }
    }
}
