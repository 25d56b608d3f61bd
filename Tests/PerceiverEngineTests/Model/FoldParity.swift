import Testing
@testable import PerceiverEngine

/// Checks one fixture case through its model loaded with and without the folds made at load
/// (`ExecutionOptions.foldsCrossAttention`: `FoldedCrossAttention`, `TabulatedKeyValues`): both against
/// `transformers` at the manifest's tolerance (1e-4 max abs, 1e-5 relative L2), and the unfolded pass running
/// exactly the FLOPs the folded one ran plus those it counts as folded away. Prints each pass's figures under
/// `labels` (for docs/engine.md "Parity with transformers").
func checkFoldedAndUnfolded(_ caseName: String, labels: (folded: String, unfolded: String)) throws {
    let fixture = try Fixtures.load(caseName)
    var options = ExecutionOptions()
    options.foldsCrossAttention = false
    let unfolded = try PerceiverModel.load(directory: Fixtures.modelDirectory(fixture.model), options: options)
    let folded = try PerceiverModel.load(directory: Fixtures.modelDirectory(fixture.model))
    let (foldedBefore, ranBefore) = (folded.foldedFLOPs, folded.matmulFLOPs)
    let unfoldedBefore = unfolded.matmulFLOPs
    let outputs = [try folded.predict(fixture.inputs), try unfolded.predict(fixture.inputs)]
    let saved = folded.foldedFLOPs - foldedBefore
    #expect(saved > 0)
    #expect(folded.matmulFLOPs - ranBefore + saved == unfolded.matmulFLOPs - unfoldedBefore)
    #expect(unfolded.foldedFLOPs == 0)
    for (order, output) in zip([labels.folded, labels.unfolded], outputs) {
        for expected in fixture.outputs {
            let actual = try #require(output[expected.name])
            let error = parityError(actual.scalars, expected.tensor.scalars)
            print("parity \(order) \(caseName) \(expected.name): max abs \(error.maxAbs), relative L2 \(error.relL2)")
            #expect(error.maxAbs <= 1e-4, "\(order) \(expected.name): max abs \(error.maxAbs)")
            #expect(error.relL2 <= 1e-5, "\(order) \(expected.name): relative L2 \(error.relL2)")
        }
    }
}
