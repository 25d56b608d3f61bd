import Foundation
import Testing
@testable import PerceiverEngine
import Support

@Suite struct MultiHeadAttentionTests {
    /// softmax(Q_h K_h^T / sqrt(dqk) + bias) V_h per head, in Double, heads concatenated.
    static func naive(q: [Float], k: [Float], v: [Float], batch: Int, nq: Int, nk: Int, heads: Int, qk: Int,
                      vc: Int, bias: [Float]?) -> [Float] {
        let (dqk, dv) = (qk / heads, vc / heads)
        var out = [Float](repeating: 0, count: batch * nq * vc)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<nq {
                    var scores = [Double](repeating: 0, count: nk)
                    for j in 0..<nk {
                        var s = 0.0
                        for d in 0..<dqk {
                            s += Double(q[(b * nq + i) * qk + h * dqk + d]) * Double(k[(b * nk + j) * qk + h * dqk + d])
                        }
                        scores[j] = s / Double(dqk).squareRoot() + Double(bias?[b * nk + j] ?? 0)
                    }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let total = e.reduce(0, +)
                    for d in 0..<dv {
                        var acc = 0.0
                        for j in 0..<nk { acc += e[j] / total * Double(v[(b * nk + j) * vc + h * dv + d]) }
                        out[(b * nq + i) * vc + h * dv + d] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    // The last: 8 heads over 4 KiB value rows, multiplied from a head-major copy (`valuesHeadMajor`).
    @Test(arguments: [(1, 1, 1, 4, 4), (2, 3, 2, 8, 12), (3, 2, 8, 32, 64), (2, 3, 8, 64, 1024)])
    func matchesNaiveAttention(batch: Int, nq: Int, heads: Int, qk: Int, vc: Int) throws {
        let context = try ComputeContext(threads: 1)
        let nk = 5
        var rng = SplitMix64(seed: UInt64(batch * 31 + heads))
        let q = rng.floats(batch * nq * qk), k = rng.floats(batch * nk * qk), v = rng.floats(batch * nk * vc)
        // Mask the last two keys of batch item 0.
        var bias = [Float](repeating: 0, count: batch * nk)
        bias[3] = -Float.greatestFiniteMagnitude
        bias[4] = -Float.greatestFiniteMagnitude
        let attention = MultiHeadAttention(heads: heads, qkChannels: qk, vChannels: vc)
        let y = try context.run {
            try attention(q: q, k: k, v: v, batch: batch, queryRows: nq, keyRows: nk, keyBias: bias, context: context)
        }
        let expected = Self.naive(q: q, k: k, v: v, batch: batch, nq: nq, nk: nk, heads: heads, qk: qk, vc: vc,
                                  bias: bias.map { $0 == 0 ? 0 : -1e30 })
        #expect(NaiveReference.maxAbsDifference(y, expected) <= 1e-5)
    }
}

extension MultiHeadAttentionTests {
    /// Scores over the budget are computed a chunk of query rows at a time, per batch element, with the
    /// same result as all at once.
    @Test(arguments: [1, 7, 40])
    func chunkedScoresEqualOneCall(budget: Int) throws {
        try expectChunkedScoresEqualOneCall(budget: budget, precision: .f32)
    }

    /// The same in bf16, where each chunk converts its own queries.
    @Test(.needsBF16Matmuls, arguments: [1, 7, 40])
    func chunkedBF16ScoresEqualOneCall(budget: Int) throws {
        try expectChunkedScoresEqualOneCall(budget: budget, precision: .bf16)
    }

    /// The same with head-major values (8 heads, 4 KiB value rows), each chunk reading the same copy.
    @Test(arguments: [1, 7, 40])
    func chunkedScoresWithHeadMajorValuesEqualOneCall(budget: Int) throws {
        try expectChunkedScoresEqualOneCall(budget: budget, precision: .f32, heads: 8, vc: 1024)
    }

    /// Values are copied head-major only where a row is a multiple of 4 KiB and there is more than one head.
    @Test func headMajorValuesOnlyForFourKiBRows() {
        #expect(MultiHeadAttention(heads: 8, qkChannels: 1024, vChannels: 1024).valuesHeadMajor)
        #expect(!MultiHeadAttention(heads: 8, qkChannels: 256, vChannels: 1280).valuesHeadMajor)
        #expect(!MultiHeadAttention(heads: 1, qkChannels: 1024, vChannels: 1024).valuesHeadMajor)
    }

    func expectChunkedScoresEqualOneCall(budget: Int, precision: Precision, heads: Int = 2,
                                         vc: Int = 12) throws {
        let context = try ComputeContext(threads: 1, precision: precision)
        let (batch, nq, nk, qk) = (2, 9, 5, 8 * heads / 2)
        var rng = SplitMix64(seed: 11)
        let q = rng.floats(batch * nq * qk), k = rng.floats(batch * nk * qk), v = rng.floats(batch * nk * vc)
        var bias = [Float](repeating: 0, count: batch * nk)
        bias[6] = -Float.greatestFiniteMagnitude
        let whole = MultiHeadAttention(heads: heads, qkChannels: qk, vChannels: vc)
        var chunked = whole
        chunked.scoreBudget = budget
        chunked.minimumChunkRows = 1
        let (a, b) = try context.run { () throws -> ([Float], [Float]) in
            (try whole(q: q, k: k, v: v, batch: batch, queryRows: nq, keyRows: nk, keyBias: bias, context: context),
             try chunked(q: q, k: k, v: v, batch: batch, queryRows: nq, keyRows: nk, keyBias: bias, context: context))
        }
        #expect(NaiveReference.maxAbsDifference(a, b) <= 1e-6)
    }
}
