import Foundation
import Testing
@testable import PerceiverEngine

/// `preprocessor_config.json` is read with the model: defaults without it, one clear error for a bad one.
@Suite struct ImageProcessorLoadingTests {
    /// A copy of fixture model `name` (symlinked files) with `preprocessor` written beside them.
    static func load(_ name: String, preprocessor: String?) throws -> Result<PerceiverModel, ModelLoadError> {
        let temporary = try TemporaryDirectory()
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(atPath: temporary.path + "/" + file,
                                                       withDestinationPath: Fixtures.modelDirectory(name) + "/" + file)
        }
        if let preprocessor { try temporary.write(text: preprocessor, to: "preprocessor_config.json") }
        return Result { () throws(ModelLoadError) in
            try PerceiverModel.load(directory: temporary.path, options: ExecutionOptions(threads: 1))
        }
    }

    @Test func fixedSizeModelWithoutFileResizesToItsInput() throws {
        let config = try Fixtures.model("learned").imageProcessor?.config
        #expect(config?.outputSize == .init(height: 8, width: 8))
        #expect(config?.size == .init(height: 224, width: 224) && config?.cropSize == .init(height: 256, width: 256))
        #expect(try Fixtures.model("fourier").imageProcessor?.config == ImageProcessorConfig())
    }

    @Test func textAndFlowModelsHaveNoImageProcessor() throws {
        #expect(try Fixtures.model("mlm").imageProcessor == nil)
        #expect(try Fixtures.model("flow").imageProcessor == nil)
    }

    @Test func readsEveryKey() throws {
        let json = #"{"do_center_crop":false,"crop_size":{"height":20,"width":30},"do_resize":true,"size":16,"#
            + #""resample":2,"do_rescale":true,"rescale_factor":0.5,"do_normalize":true,"image_mean":0.5,"#
            + #""image_std":[1,2,3],"image_processor_type":"PerceiverImageProcessor"}"#
        let config = try Self.load("fourier", preprocessor: json).get().imageProcessor?.config
        #expect(config?.doCenterCrop == false && config?.cropSize == .init(height: 20, width: 30))
        #expect(config?.size == .init(height: 16, width: 16) && config?.resample == .bilinear)
        #expect(config?.rescaleFactor == 0.5 && config?.imageMean == [0.5, 0.5, 0.5] && config?.imageStd == [1, 2, 3])
    }

    @Test(arguments: [
        (#"{"resample": 1}"#, "resample"),
        (#"{"size": {"shortest_edge": 224}}"#, "size"),
        (#"{"image_mean": [0.5, 0.5]}"#, "image_mean"),
        (#"{"image_std": [1, 0, 1]}"#, "image_std"),
        (#"{"do_resize": "yes"}"#, "do_resize"),
        (#"[1, 2]"#, "(root)"),
    ])
    func refusesBadFile(_ json: String, _ key: String) throws {
        let result = try Self.load("fourier", preprocessor: json)
        guard case .failure(.invalidPreprocessorConfig(let failedKey, _)) = result else {
            Issue.record("expected a preprocessor_config.json error, got \(result)")
            return
        }
        #expect(failedKey == key)
    }

    @Test func refusesSizeThatIsNotTheFixedInput() throws {
        let result = try Self.load("learned", preprocessor: #"{"size": {"height": 16, "width": 16}}"#)
        guard case .failure(let error) = result else {
            Issue.record("expected a load error")
            return
        }
        #expect(error.description == "preprocessor_config.json: 'size': resizes to 16x16, but the model takes 8x8 "
                + "images (config.json image_size)")
        #expect(throws: Never.self) { try Self.load("learned", preprocessor: #"{"size": 8}"#).get() }
    }
}
