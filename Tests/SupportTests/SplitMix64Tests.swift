import Support
import Testing

/// The one seeded generator: the reference sequence, and the helpers' mappings of it.
@Suite struct SplitMix64Tests {
    /// The first outputs of https://prng.di.unimi.it/splitmix64.c seeded with 0.
    @Test func matchesTheReferenceSequence() {
        var generator = SplitMix64(seed: 0)
        #expect((0..<3).map { _ in generator.next() } == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4,
                                                           0x06C4_5D18_8009_454F])
    }

    @Test func unitFloatsAreTheTop24BitsOfADraw() {
        var generator = SplitMix64(seed: 42)
        var reference = SplitMix64(seed: 42)
        for _ in 0..<1000 {
            let value = generator.nextUnitFloat()
            #expect(value == Float(reference.next() >> 40) / 16_777_216)
            #expect(value >= 0 && value < 1)
        }
    }

    /// `RandomWeights` and the kernel tests' inputs depend on the symmetric case being `(2u - 1) x bound`
    /// to the bit.
    @Test(arguments: [Float(1), 0.05, 1 / Float(3).squareRoot(), 0.3])
    func symmetricRangesScaleTheUnitInterval(bound: Float) {
        var generator = SplitMix64(seed: 7)
        var reference = SplitMix64(seed: 7)
        for _ in 0..<1000 {
            let value = generator.nextFloat(in: -bound...bound)
            #expect(value == (reference.nextUnitFloat() * 2 - 1) * bound)
            #expect(value >= -bound && value <= bound)
        }
    }

    @Test func integersStayInTheirRangeAndFollowTheDraws() {
        var generator = SplitMix64(seed: 3)
        var reference = SplitMix64(seed: 3)
        for width in 1...200 {
            let value = generator.nextInt(in: -5..<(width - 5))
            #expect(value == -5 + Int(reference.next() % UInt64(width)))
            #expect((-5..<(width - 5)).contains(value))
        }
    }
}
