import Foundation
@testable import PerceiverEngine

/// The golden tensors written by `tools/fixtures/make_fixtures.py` (transformers 5.23, seeded random weights).
enum Fixtures {
    struct Case {
        let name: String
        let model: String
        let inputs: ModelInputs
        /// Expected outputs by name (`logits`, or multimodal `audio`, `image`, `label`), manifest order.
        let outputs: [NamedTensor]
        let text: [String]

        /// The expected `logits` (every family but multimodal).
        var logits: Tensor { outputs.first { $0.name == "logits" }!.tensor }
    }

    static var directory: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }

    static func modelDirectory(_ name: String) -> String {
        directory + "/models/" + name
    }

    /// The `cases` array of `manifest.json`.
    nonisolated(unsafe) static let manifestCases: [[String: Any]] = {
        let data = FileManager.default.contents(atPath: directory + "/manifest.json")!
        let manifest = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return manifest["cases"] as! [[String: Any]]
    }()

    static var caseNames: [String] { manifestCases.map { $0["name"] as! String } }

    private static let modelCache = ModelCache()

    /// The fixture model `name`, loaded once per test process.
    static func model(_ name: String) throws -> PerceiverModel {
        try modelCache.model(name)
    }

    static func load(_ name: String) throws -> Case {
        let entry = manifestCases.first { $0["name"] as? String == name }!
        let file = try SafeTensorsFile(path: directory + "/cases/\(name).safetensors")
        func floats(_ tensor: String) -> Tensor? {
            guard let e = file.header.entries.first(where: { $0.name == tensor }) else { return nil }
            let bytes = file.bytes(of: e)
            let values = (0..<e.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            return Tensor(shape: e.shape, scalars: values)
        }
        func integers(_ tensor: String) -> IndexTensor? {
            guard let e = file.header.entries.first(where: { $0.name == tensor }) else { return nil }
            let bytes = file.bytes(of: e)
            let values = (0..<e.elementCount).map { Int(bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            return IndexTensor(shape: e.shape, values: values)
        }
        var inputs = ModelInputs(inputIDs: integers("input_ids"), attentionMask: integers("attention_mask"),
                                 pixelValues: floats("pixel_values"), outputPositions: integers("output_positions"),
                                 queries: floats("queries"))
        inputs.flowPatches = floats("inputs")
        inputs.frames = floats("frames")
        inputs.image = floats("image")
        inputs.audio = floats("audio")
        inputs.label = floats("label")
        for modality in Modality.allCases {
            inputs.modalityPositions[modality] = integers(modality.positionsName)
        }
        // Request options the case was computed with (`transformers` forward arguments).
        let parameters = entry["parameters"] as? [String: Any] ?? [:]
        inputs.interpolatePositionEncoding = parameters["interpolate_pos_encoding"] as? Bool ?? false
        // Multimodal cases store their expected outputs as `expected.<name>` beside the inputs of the same name.
        let outputs = (entry["outputs"] as! [String]).map { output in
            NamedTensor(name: output, tensor: floats("expected." + output) ?? floats(output)!)
        }
        return Case(name: name, model: entry["model"] as! String, inputs: inputs, outputs: outputs,
                    text: entry["text"] as? [String] ?? [])
    }
}

/// Each fixture model loaded once for every test. `lock` guards `models` (tests run in parallel), hence
/// `@unchecked Sendable`.
private final class ModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var models: [String: PerceiverModel] = [:]

    func model(_ name: String) throws -> PerceiverModel {
        lock.lock()
        defer { lock.unlock() }
        if let model = models[name] { return model }
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory(name),
                                            options: ExecutionOptions(threads: 1))
        models[name] = model
        return model
    }
}

/// Max absolute and relative L2 error of `actual` against `expected`.
func parityError(_ actual: [Float], _ expected: [Float]) -> (maxAbs: Float, relL2: Double) {
    var maxAbs: Float = 0
    var diff = 0.0, norm = 0.0
    for i in expected.indices {
        let d = actual[i] - expected[i]
        maxAbs = max(maxAbs, abs(d))
        diff += Double(d) * Double(d)
        norm += Double(expected[i]) * Double(expected[i])
    }
    return (maxAbs, (diff / max(norm, 1e-30)).squareRoot())
}
