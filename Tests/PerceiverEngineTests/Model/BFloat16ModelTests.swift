import Testing
@testable import PerceiverEngine

/// Every fixture model loaded in bf16 against the f32 outputs `transformers` produced: top-1 agreement of
/// every classification row (masked-LM positions, image and sequence labels) and the error of every output.
@Suite(.needsBF16Matmuls) struct BFloat16ModelTests {
    /// (agreeing rows, rows, max abs error, relative L2) of one case's outputs.
    static func compare(_ caseName: String) throws -> (agree: Int, rows: Int, maxAbs: Float, relL2: Double) {
        let fixture = try Fixtures.load(caseName)
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory(fixture.model),
                                            options: ExecutionOptions(precision: .bf16, threads: 2))
        let outputs = try model.predict(fixture.inputs)
        var (agree, rows, maxAbs, relL2) = (0, 0, Float(0), 0.0)
        for expected in fixture.outputs {
            let actual = try #require(outputs[expected.name])
            try #require(actual.shape == expected.tensor.shape, "\(caseName) \(expected.name)")
            let error = parityError(actual.scalars, expected.tensor.scalars)
            (maxAbs, relL2) = (max(maxAbs, error.maxAbs), max(relL2, error.relL2))
            // Regression outputs (flow vectors, reconstructed pixels and audio) have no top-1.
            guard expected.name == "logits" || expected.name == "label", !caseName.hasPrefix("flow") else { continue }
            let width = expected.tensor.shape.last!
            for row in 0..<(actual.scalars.count / width) {
                let slice = row * width..<(row + 1) * width
                rows += 1
                if argmax(actual.scalars[slice]) == argmax(expected.tensor.scalars[slice]) { agree += 1 }
            }
        }
        print("bf16 \(caseName): top-1 \(agree)/\(rows), max abs \(maxAbs), relative L2 \(relL2)")
        return (agree, rows, maxAbs, relL2)
    }

    static func argmax(_ values: ArraySlice<Float>) -> Int {
        values.indices.max { values[$0] < values[$1] }!
    }

    @Test func agreesWithF32OnEveryFixture() throws {
        var (agree, rows, largest) = (0, 0, Float(0))
        for name in Fixtures.caseNames {
            let result = try Self.compare(name)
            (agree, rows, largest) = (agree + result.agree, rows + result.rows, max(largest, result.maxAbs))
            // bf16 keeps 8 significant bits: about 0.4% per rounding, and a few percent through a whole model.
            #expect(result.relL2 <= 0.05, "\(name): relative L2 \(result.relL2)")
        }
        print("bf16 top-1 agreement over the fixtures: \(agree)/\(rows)")
        #expect(rows >= 150)
        // bf16 really ran: f32 matches these outputs to 1e-5.
        #expect(largest > 1e-3, "largest error \(largest)")
        #expect(Double(agree) >= 0.99 * Double(rows), "top-1 agreement \(agree)/\(rows)")
    }

    @Test func bf16ModelPacksEveryLinearLayer() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(precision: .bf16, threads: 1))
        let layers = [model.encoder.crossAttention, model.decoder.layer] + model.encoder.selfAttends
        for layer in layers {
            for linear in [layer.query, layer.key, layer.value, layer.output, layer.mlp1, layer.mlp2] {
                #expect(linear.packed != nil)
            }
        }
        guard let projection = model.postprocessor as? ProjectionHead else {
            Issue.record("the masked LM's head is a projection")
            return
        }
        #expect(projection.head.packed != nil)
        let f32 = try Fixtures.model("mlm")
        #expect(f32.encoder.crossAttention.query.packed == nil)
    }
}
