import Testing
@testable import PerceiverEngine

/// `ModelInstance.warmUp`: the pass a server runs before its first request creates every primitive a full pass
/// over the same inputs uses, while running the self-attention stack's first layer only.
@Suite struct WarmUpTests {
    /// Models with a stack of 2 self-attention layers run 2 blocks (masked LM, Learned) or 1 (flow).
    @Test(arguments: ["mlm", "learned", "flow", "multimodal"])
    func aWarmUpCreatesWhatAPassUses(name: String) throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory(name),
                                            options: ExecutionOptions(threads: 1))
        let inputs = model.sampleInputs
        let warmed = try ModelInstance(model: model, threads: 1)
        try warmed.warmUp(inputs, threads: 1)
        let (created, warmUpFLOPs) = (warmed.primitiveCount, warmed.matmulFLOPs)
        _ = try warmed.predict(inputs, threads: 1)
        #expect(warmed.primitiveCount == created, "the first pass after a warm-up creates no primitive")
        let passFLOPs = warmed.matmulFLOPs - warmUpFLOPs

        // A cold instance's pass creates as many, and the warm-up ran fewer FLOPs than that pass, by the layers
        // it skipped: every self-attention layer costs the same.
        let cold = try ModelInstance(model: model, threads: 1)
        _ = try cold.predict(inputs, threads: 1)
        #expect(cold.primitiveCount == created)
        #expect(cold.matmulFLOPs == passFLOPs)
        let layers = model.config.numSelfAttendsPerBlock * model.config.numBlocks
        #expect(layers > 1)
        #expect((passFLOPs - warmUpFLOPs) % (layers - 1) == 0)
        #expect(warmUpFLOPs < passFLOPs)
        // A pass after a warm-up answers as a cold one does.
        let after = try warmed.predict(inputs, threads: 1), fresh = try cold.predict(inputs, threads: 1)
        #expect(after.named.map(\.tensor.scalars) == fresh.named.map(\.tensor.scalars))
    }
}
