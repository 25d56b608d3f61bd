import JSONKit

/// The validated contents of `model.safetensors.index.json`, the file Hugging Face writes next
/// to a sharded checkpoint: `{"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}`.
struct ShardIndex {
    /// The index file's path (used in error messages).
    let path: String
    /// Tensor name -> shard file name (a plain name inside the checkpoint directory).
    let weightMap: [String: String]

    /// The distinct shard file names, sorted.
    var shardNames: [String] {
        Set(weightMap.values).sorted()
    }

    /// Parses the index whose complete contents are `bytes`.
    init(bytes: UnsafeRawBufferPointer, path: String) throws(ModelLoadError) {
        self.path = path
        let object: JSONObjectReader
        do throws(CheckpointJSONError) {
            object = try JSONValue.checkpointObject(bytes)
        } catch {
            throw .invalidShardIndex(path: path, reason: error.reason)
        }
        // "metadata" is informational (e.g. total_size); only its shape is checked.
        if let metadata = object["metadata"], metadata.members == nil {
            throw .invalidShardIndex(path: path, reason: "'metadata' is not an object")
        }
        guard let weightMap = object["weight_map"]?.stringMap else {
            throw .invalidShardIndex(
                path: path, reason: "'weight_map' is missing or not an object of string values")
        }
        guard !weightMap.isEmpty else {
            throw .invalidShardIndex(path: path, reason: "'weight_map' is empty")
        }
        for tensor in weightMap.keys.sorted() {
            let shard = weightMap[tensor] ?? ""
            guard Self.isPlainFileName(shard) else {
                throw .invalidShardIndex(
                    path: path,
                    reason: "tensor '\(tensor)': shard '\(shard)' is not a file name in the checkpoint directory")
            }
        }
        self.weightMap = weightMap
    }

    /// Whether `name` stays inside the checkpoint directory: no separators, no parent
    /// references, no NUL (which would truncate the path handed to open(2)).
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && !name.contains("/") && !name.contains("..")
            && !name.utf8.contains(0)
    }

    /// Checks that `shards` (file name -> opened shard, one per name in ``shardNames``) hold
    /// exactly the tensors `weightMap` assigns to them, each in one shard only.
    func validate(_ shards: [String: SafeTensorsFile]) throws(ModelLoadError) {
        let owner = try owners(shards)
        for tensor in owner.keys.sorted() {
            let shardName = owner[tensor] ?? ""
            guard let listed = weightMap[tensor] else {
                throw invalid(tensor, "is in '\(shardName)' but not in weight_map")
            }
            guard listed == shardName else {
                throw invalid(tensor, "is in '\(shardName)' but weight_map says '\(listed)'")
            }
        }
        for tensor in weightMap.keys.sorted() where owner[tensor] == nil {
            throw invalid(tensor, "is listed for '\(weightMap[tensor] ?? "")' but that shard lacks it")
        }
    }

    /// Tensor name -> the shard that stores it; throws if two shards store the same name
    /// (checked first so that is what gets reported, not a weight_map disagreement).
    private func owners(_ shards: [String: SafeTensorsFile]) throws(ModelLoadError) -> [String: String] {
        var owner: [String: String] = [:]
        for shardName in shards.keys.sorted() {
            for entry in shards[shardName]?.header.entries ?? [] {
                if let first = owner[entry.name] {
                    throw invalid(entry.name, "is stored in both '\(first)' and '\(shardName)'")
                }
                owner[entry.name] = shardName
            }
        }
        return owner
    }

    private func invalid(_ tensor: String, _ problem: String) -> ModelLoadError {
        .invalidShardIndex(path: path, reason: "tensor '\(tensor)' \(problem)")
    }
}
