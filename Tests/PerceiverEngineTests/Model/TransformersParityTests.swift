import Testing
@testable import PerceiverEngine

/// Every fixture case against the logits `transformers` produced for it: max abs <= 1e-4 and relative
/// L2 <= 1e-5 (the manifest's tolerance).
@Suite struct TransformersParityTests {
    @Test(arguments: Fixtures.caseNames)
    func matchesTransformers(caseName: String) throws {
        let fixture = try Fixtures.load(caseName)
        let model = try Fixtures.model(fixture.model)
        let outputs = try model.predict(fixture.inputs)
        #expect(outputs.named.map(\.name).sorted() == fixture.outputs.map(\.name).sorted())
        for expected in fixture.outputs {
            let actual = try #require(outputs[expected.name])
            #expect(actual.shape == expected.tensor.shape, "\(expected.name)")
            guard actual.shape == expected.tensor.shape else { continue }
            let error = parityError(actual.scalars, expected.tensor.scalars)
            // The measured figures, for docs/engine.md "Parity with transformers":
            // `swift test --filter TransformersParityTests`.
            print("parity \(caseName) \(expected.name): max abs \(error.maxAbs), relative L2 \(error.relL2)")
            #expect(error.maxAbs <= 1e-4, "\(expected.name): max abs error \(error.maxAbs)")
            #expect(error.relL2 <= 1e-5, "\(expected.name): relative L2 error \(error.relL2)")
        }
    }

    @Test func halfPrecisionCheckpointsAreConvertedAtLoad() throws {
        #expect(try Fixtures.model("mlm_f16").storedDTypes == ["F16"])
        #expect(try Fixtures.model("mlm_bf16").storedDTypes == ["BF16"])
        #expect(try Fixtures.model("mlm").storedDTypes == ["F32"])
    }

    @Test func parameterCountsMatchTransformers() throws {
        // num_parameters() as recorded by tools/fixtures/make_fixtures.py in the manifest.
        let expected = ["mlm": 101_446, "seqcls": 100_643, "learned": 760_901, "fourier": 176_432, "conv": 53_545,
                        "flow": 267_648, "multimodal": 338_803]
        for (name, count) in expected {
            #expect(try Fixtures.model(name).parameterCount == count, "\(name)")
        }
    }
}
