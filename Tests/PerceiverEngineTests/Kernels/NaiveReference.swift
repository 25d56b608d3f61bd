import Foundation
import Support

/// Naive, obviously-correct references for every optimized kernel (computed in Double).
enum NaiveReference {
    /// `x (rows, k) . w^T (n, k)^T + bias` in Double.
    static func linear(_ x: [Float], rows: Int, k: Int, weight: [Float], n: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for j in 0..<n {
                var sum = Double(bias?[j] ?? 0)
                for i in 0..<k { sum += Double(x[r * k + i]) * Double(weight[j * k + i]) }
                y[r * n + j] = Float(sum)
            }
        }
        return y
    }

    /// `torch.nn.LayerNorm` with eps 1e-5 over rows of `x (rows, c)`: biased variance, two passes.
    static func layerNorm(_ x: [Float], rows: Int, c: Int, gamma: [Float], beta: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = x[(r * c)..<((r + 1) * c)].map(Double.init)
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            let inv = 1 / (variance + 1e-5).squareRoot()
            for j in 0..<c { y[r * c + j] = Float((row[j] - mean) * inv * Double(gamma[j]) + Double(beta[j])) }
        }
        return y
    }

    /// Softmax over rows of `x (rows, c)`.
    static func softmax(_ x: [Float], rows: Int, c: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = x[(r * c)..<((r + 1) * c)].map(Double.init)
            let m = row.max() ?? 0
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<c { y[r * c + j] = Float(e[j] / s) }
        }
        return y
    }

    /// The exact GELU `0.5 x (1 + erf(x / sqrt 2))` (torch.nn.functional.gelu, approximate="none").
    static func gelu(_ x: Float) -> Float {
        let d = Double(x)
        return Float(0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot())))
    }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "count mismatch \(a.count) vs \(b.count)")
        var m: Float = 0
        for i in a.indices { m = max(m, abs(a[i] - b[i])) }
        return a.isEmpty ? 0 : m
    }
}

extension SplitMix64 {
    /// `count` test inputs uniform in [-scale, scale].
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in nextFloat(in: -scale...scale) }
    }
}
