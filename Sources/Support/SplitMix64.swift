/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; the C
/// reference is https://prng.di.unimi.it/splitmix64.c): a tiny deterministic generator for seeded test data,
/// random benchmark weights and fuzz splits, the same sequence on every platform and run. Not for secrets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The golden-ratio increment the state advances by on every draw.
    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    /// A generator whose first draw is the reference's first output for `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 24 bits of a draw, so every value is an exact float and the step is 2^-24.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) / Float(1 << 24)
    }

    /// Uniform over `range`, from one draw: `(2u - 1) x half-width + midpoint`, which for a range centred on 0
    /// is `(2u - 1) x bound` exactly. Rounding may reach the upper bound.
    public mutating func nextFloat(in range: ClosedRange<Float>) -> Float {
        let half = (range.upperBound - range.lowerBound) / 2
        return (nextUnitFloat() * 2 - 1) * half + (range.lowerBound + half)
    }

    /// An integer in `range` (not empty), from one draw taken modulo its width: the bias, below width / 2^64,
    /// does not matter for test data and fuzz splits.
    public mutating func nextInt(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "an empty range")
        let width = UInt64(truncatingIfNeeded: range.upperBound &- range.lowerBound)
        return range.lowerBound &+ Int(truncatingIfNeeded: next() % width)
    }
}
