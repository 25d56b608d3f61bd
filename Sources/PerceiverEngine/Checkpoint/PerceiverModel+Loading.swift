import Foundation

extension PerceiverModel {
    /// Loads a directory written by `save_pretrained`: `config.json` plus `model.safetensors` (or the
    /// sharded form with `model.safetensors.index.json`).
    ///
    /// Every checkpoint tensor is mapped by its exact name; a missing tensor, an unused tensor, or a shape
    /// that disagrees with the config refuses the load. An image classifier also reads `preprocessor_config.json`
    /// when the directory has one (see `ImageProcessor.forModel`).
    /// - Throws: `ModelLoadError` naming the file, key or tensor at fault.
    public static func load(directory: String, options: ExecutionOptions = .init()) throws(ModelLoadError)
        -> PerceiverModel {
        let config = try loadConfig(directory: directory)
        guard let architecture = Architecture(rawValue: config.architecture) else {
            throw ModelLoadError.unknownArchitecture(config.architecture)
        }
        let preprocessorConfig = try loadOptionalFile(directory: directory, name: ImageProcessor.configFileName)
        let checkpoint = try Checkpoint(directory: directory)
        let weights = CheckpointWeights(checkpoint)
        let model = try PerceiverModel(config: config, architecture: architecture, source: weights,
                                       storedDTypes: checkpoint.storedDTypes.map(\.rawValue), options: options,
                                       preprocessorConfig: preprocessorConfig)
        try weights.checkAllUsed()
        return model
    }

    /// A model of `config`'s architecture with seeded random weights: benchmarks of real-sized models
    /// without a checkpoint.
    public static func random(config: PerceiverConfig, seed: UInt64 = 0,
                              options: ExecutionOptions = .init()) throws(ModelLoadError) -> PerceiverModel {
        guard let architecture = Architecture(rawValue: config.architecture) else {
            throw ModelLoadError.unknownArchitecture(config.architecture)
        }
        return try PerceiverModel(config: config, architecture: architecture, source: RandomWeights(seed: seed),
                                  storedDTypes: [], options: options)
    }

    /// Reads and parses `directory/config.json`.
    static func loadConfig(directory: String) throws(ModelLoadError) -> PerceiverConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: path) else { throw ModelLoadError.fileNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError.unreadable(path: path, errno: errno)
        }
        return try PerceiverConfig(json: data)
    }

    /// The bytes of `directory/name`, or nil when there is no such file.
    static func loadOptionalFile(directory: String, name: String) throws(ModelLoadError) -> Data? {
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError.unreadable(path: path, errno: errno)
        }
        return data
    }
}
