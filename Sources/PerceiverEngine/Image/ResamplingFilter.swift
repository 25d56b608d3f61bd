/// The resampling filters of Pillow's `Image.resize` that image processors use, by PIL's `Image.Resampling`
/// numbers (the `resample` key of `preprocessor_config.json`).
public enum ResamplingFilter: Int, Sendable, CaseIterable {
    case bilinear = 2
    case bicubic = 3

    /// Half-width of the filter at scale 1 (libImaging/Resample.c `struct filter`).
    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// The filter's weight at distance `x` (Resample.c `bilinear_filter`, `bicubic_filter` with a = -0.5),
    /// written with the same operations in the same order so the doubles agree bit for bit.
    func weight(_ x: Double) -> Double {
        let x = x < 0 ? -x : x
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}
