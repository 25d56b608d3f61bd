import Testing
@testable import PerceiverEngine

/// Every fixture case against the logits `transformers` produced for it: max abs <= 1e-4 and relative
/// L2 <= 1e-5 (the manifest's tolerance).
@Suite struct TransformersParityTests {
    @Test(arguments: Fixtures.caseNames)
    func matchesTransformers(caseName: String) throws {
        let fixture = try Fixtures.load(caseName)
        let model = try Fixtures.model(fixture.model)
        let logits = try model.predict(fixture.inputs).logits
        #expect(logits.shape == fixture.logits.shape)
        guard logits.shape == fixture.logits.shape else { return }
        let error = parityError(logits.scalars, fixture.logits.scalars)
        #expect(error.maxAbs <= 1e-4, "max abs error \(error.maxAbs)")
        #expect(error.relL2 <= 1e-5, "relative L2 error \(error.relL2)")
    }

    @Test func halfPrecisionCheckpointsAreConvertedAtLoad() throws {
        #expect(try Fixtures.model("mlm_f16").storedDTypes == ["F16"])
        #expect(try Fixtures.model("mlm_bf16").storedDTypes == ["BF16"])
        #expect(try Fixtures.model("mlm").storedDTypes == ["F32"])
    }

    @Test func parameterCountsMatchTransformers() throws {
        // num_parameters() as recorded by tools/make_fixtures.py in the manifest.
        let expected = ["mlm": 101_446, "seqcls": 100_643, "learned": 760_901, "fourier": 176_432, "conv": 53_545]
        for (name, count) in expected {
            #expect(try Fixtures.model(name).parameterCount == count, "\(name)")
        }
    }
}
