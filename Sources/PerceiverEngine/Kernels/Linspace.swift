/// `torch.linspace(start, end, steps)` for CPU float32, bit for bit.
///
/// Mirrors ATen's `linspace` CPU kernel (`RangeFactoriesKernel.cpp`), which `transformers` reaches through
/// `build_linear_positions` and `generate_fourier_features` (docs/reference/perceiver.md B.8):
/// ```
/// step = fl32(fl32(end - start) / fl32(count - 1))
/// x[i] = fma( step, i,           start)   for i <  count / 2
/// x[i] = fma(-step, count-1-i,   end)     for i >= count / 2
/// ```
/// The naive `start + i * step` is off by one ulp at many points, and the audio Fourier features multiply these
/// values by up to 15,360·π, so the fused, symmetric form matters.
///
/// - Parameters:
///   - start: first value (returned exactly).
///   - end: last value (returned exactly when `count >= 2`).
///   - count: number of points; `count <= 0` gives `[]`, `count == 1` gives `[start]` (as torch does).
/// - Returns: `(count)` values.
public func torchLinspace(start: Float, end: Float, count: Int) -> [Float] {
    guard count > 0 else { return [] }
    guard count > 1 else { return [start] }
    let step = (end - start) / Float(count - 1)
    let halfway = count / 2
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<halfway {
            buffer[i] = start.addingProduct(step, Float(i))
        }
        for i in halfway..<count {
            buffer[i] = end.addingProduct(-step, Float(count - 1 - i))
        }
        initialized = count
    }
}
