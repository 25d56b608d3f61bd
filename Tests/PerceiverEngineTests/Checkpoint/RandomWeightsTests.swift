import Testing
@testable import PerceiverEngine

/// `PerceiverModel.random` builds benchmark models from `RandomWeights`: the same seed must keep giving the
/// same weights, whichever generator type draws them.
@Suite struct RandomWeightsTests {
    /// The first weights for seed 9, as the generator written out in `RandomWeights` drew them before it used
    /// `SplitMix64` (computed again in float32 with numpy): uniform in ±1/sqrt(fan_in).
    @Test func seedNineGivesThePinnedWeights() throws {
        let tensor = try RandomWeights(seed: 9).tensor("x.weight", shape: [2, 3])
        #expect(tensor.values == [0x1.286ccap-2, -0x1.157c66p-2, 0x1.50c478p-2, -0x1.18c292p-2, -0x1.c7b14cp-2,
                                  0x1.58cff2p-3])
    }

    @Test func layerNormScalesAreOnes() throws {
        let tensor = try RandomWeights(seed: 9).tensor("encoder.layernorm.weight", shape: [4])
        #expect(tensor.values == [1, 1, 1, 1])
    }
}
