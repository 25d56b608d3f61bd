import Foundation
import Testing
@testable import PerceiverEngine

/// Checkpoints that disagree with their architecture are refused with an error naming the problem.
@Suite struct ModelLoadingTests {
    /// The fixture MLM's tensors as (name, dtype, shape, bytes), ready to rewrite.
    static func mlmTensors() throws -> [WrittenTensor] {
        let checkpoint = try Checkpoint(directory: Fixtures.modelDirectory("mlm"))
        return try checkpoint.tensorNames.map { name in
            let entry = checkpoint.info(name)!
            return WrittenTensor(name, "F32", entry.shape, littleEndianBytes(try checkpoint.floatTensor(name).values))
        }
    }

    /// A model directory with the fixture MLM's config (optionally edited) and `tensors`.
    static func directory(_ tensors: [WrittenTensor], config: ((inout [String: Any]) -> Void)? = nil)
        throws -> TemporaryDirectory {
        let temporary = try TemporaryDirectory()
        let configData = FileManager.default.contents(atPath: Fixtures.modelDirectory("mlm") + "/config.json")!
        var object = try JSONSerialization.jsonObject(with: configData) as! [String: Any]
        config?(&object)
        try temporary.write(Array(try JSONSerialization.data(withJSONObject: object)), to: "config.json")
        try temporary.write(SafeTensorsWriter.file(tensors), to: "model.safetensors")
        return temporary
    }

    static func loadError(_ directory: TemporaryDirectory) -> ModelLoadError? {
        do {
            _ = try PerceiverModel.load(directory: directory.path, options: ExecutionOptions(threads: 1))
            return nil
        } catch {
            return error
        }
    }

    @Test func rewrittenCheckpointStillLoads() throws {
        let directory = try Self.directory(try Self.mlmTensors())
        #expect(Self.loadError(directory) == nil)
    }

    @Test func refusesMissingTensor() throws {
        let name = "perceiver.encoder.self_attends.1.mlp.dense2.bias"
        let directory = try Self.directory(try Self.mlmTensors().filter { $0.name != name })
        let error = Self.loadError(directory)
        #expect(error == .missingTensor(name))
        #expect(error?.description.contains(name) == true)
    }

    @Test func refusesUnusedTensor() throws {
        let extra = WrittenTensor("perceiver.decoder.extra.weight", "F32", [2], littleEndianBytes([Float(1), 2]))
        let directory = try Self.directory(try Self.mlmTensors() + [extra])
        let error = Self.loadError(directory)
        #expect(error == .unusedTensor("perceiver.decoder.extra.weight"))
        #expect(error?.description.contains("perceiver.decoder.extra.weight") == true)
    }

    @Test func refusesShapeThatDisagreesWithConfig() throws {
        let tensors = try Self.mlmTensors().map { tensor -> WrittenTensor in
            guard tensor.name == "embedding_decoder.bias" else { return tensor }
            return WrittenTensor(tensor.name, "F32", [261], Array(tensor.bytes.dropLast(4)))
        }
        let error = Self.loadError(try Self.directory(tensors))
        #expect(error == .shapeMismatch(tensor: "embedding_decoder.bias", expected: [262], actual: [261]))
        #expect(error?.description.contains("embedding_decoder.bias") == true)
    }

    @Test func refusesIntegerWeights() throws {
        let tensors = try Self.mlmTensors().map { tensor -> WrittenTensor in
            guard tensor.name == "embedding_decoder.bias" else { return tensor }
            return WrittenTensor(tensor.name, "I32", [262], tensor.bytes)
        }
        let error = Self.loadError(try Self.directory(tensors))
        #expect(error?.description.contains("embedding_decoder.bias") == true)
    }

    @Test func refusesUnknownArchitecture() throws {
        let directory = try Self.directory(try Self.mlmTensors()) { $0["architectures"] = ["PerceiverForTimeTravel"] }
        let error = Self.loadError(directory)
        #expect(error == .unknownArchitecture("PerceiverForTimeTravel"))
        #expect(error?.description.contains("PerceiverForTimeTravel") == true)
    }

    @Test func refusesConfigValueOfWrongType() throws {
        let directory = try Self.directory(try Self.mlmTensors()) { $0["num_latents"] = "eight" }
        #expect(Self.loadError(directory) == .invalidConfig(key: "num_latents", reason: "expected a positive integer, got eight"))
    }

    @Test func refusesConfigThatDisagreesWithWeights() throws {
        // 16 latents in config, 8 in the file: the error names the tensor.
        let directory = try Self.directory(try Self.mlmTensors()) { $0["num_latents"] = 16 }
        #expect(Self.loadError(directory) == .shapeMismatch(tensor: "perceiver.embeddings.latents",
                                                            expected: [16, 64], actual: [8, 64]))
    }

    @Test func refusesTruncatedWeightsFile() throws {
        let temporary = try Self.directory(try Self.mlmTensors())
        let path = temporary.path + "/model.safetensors"
        let bytes = Array(FileManager.default.contents(atPath: path)!.prefix(4000))
        try temporary.write(bytes, to: "model.safetensors")
        guard case .headerLengthPastEnd? = Self.loadError(temporary) else {
            Issue.record("expected headerLengthPastEnd")
            return
        }
    }

    @Test func refusesMissingConfig() throws {
        let temporary = try TemporaryDirectory()
        #expect(Self.loadError(temporary) == .fileNotFound(path: temporary.path + "/config.json"))
    }

    @Test func f32WeightsAreMappedNotCopied() throws {
        let checkpoint = try Checkpoint(directory: Fixtures.modelDirectory("mlm"))
        let tensor = try checkpoint.floatTensor("perceiver.embeddings.latents")
        let file = try #require(checkpoint.loadedFileBytes(holding: "perceiver.embeddings.latents"))
        let start = UnsafeRawPointer(tensor.data)
        #expect(start >= file.baseAddress! && start < file.baseAddress! + file.count)
    }
}
