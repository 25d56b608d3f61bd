import Testing

@testable import PerceiverEngine

private let indexName = "model.safetensors.index.json"
private let shard1 = "model-00001-of-00002.safetensors"
private let shard2 = "model-00002-of-00002.safetensors"

/// `model.safetensors.index.json` text for `weightMap`.
private func indexJSON(_ weightMap: [String: String]) -> String {
    let pairs = weightMap.keys.sorted().map {
        "\(SafeTensorsWriter.quoted($0)): \(SafeTensorsWriter.quoted(weightMap[$0] ?? ""))"
    }
    return "{\n  \"metadata\": {\"total_size\": 24},\n  \"weight_map\": {\n    "
        + pairs.joined(separator: ",\n    ") + "\n  }\n}\n"
}

/// A directory with two shards (`a`, `b` in the first; `c` in the second) and an index.
private func shardedDirectory(weightMap: [String: String]? = nil) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory()
    try directory.write(
        SafeTensorsWriter.file([
            WrittenTensor("a", "F32", [2], littleEndianBytes([Float(1), 2])),
            WrittenTensor("b", "BF16", [2], littleEndianBytes([UInt16(0x3F80), 0x4000])),
        ]), to: shard1)
    try directory.write(
        SafeTensorsWriter.file([WrittenTensor("c", "F16", [1], littleEndianBytes([UInt16(0xC400)]))]), to: shard2)
    let map = weightMap ?? ["a": shard1, "b": shard1, "c": shard2]
    try directory.write(text: indexJSON(map), to: indexName)
    return directory
}

/// The reason of an `.invalidShardIndex` error for the index in `directory`, or nil.
private func shardIndexReason(_ error: ModelLoadError, in directory: TemporaryDirectory) -> String? {
    guard case .invalidShardIndex(let path, let reason) = error, path == directory.path + "/" + indexName else {
        return nil
    }
    return reason
}

@Suite("Sharded checkpoint")
struct ShardedCheckpointTests {
    @Test func loadsTensorsFromTwoShards() throws {
        let directory = try shardedDirectory()
        let checkpoint = try Checkpoint(directory: directory.path)
        #expect(checkpoint.tensorNames == ["a", "b", "c"])
        #expect(checkpoint.files == [directory.path + "/" + shard1, directory.path + "/" + shard2])
        #expect(try checkpoint.floatTensor("a").values == [1, 2])
        #expect(try checkpoint.floatTensor("b").values == [1, 2])
        #expect(try checkpoint.floatTensor("c").values == [-4])
        #expect(checkpoint.storedDTypes == [.bf16, .f16, .f32])
        #expect(checkpoint.totalParameterCount == 5)
        #expect(checkpoint.info("c")?.dtype == .f16)
    }

    @Test func prefersIndexOverSingleFile() throws {
        let directory = try shardedDirectory()
        try directory.write([1, 2, 3], to: "model.safetensors")  // Would be truncated if read.
        #expect(try Checkpoint(directory: directory.path).tensorNames == ["a", "b", "c"])
    }

    @Test func rejectsIndexNamingMissingShard() throws {
        let missing = "model-00003-of-00003.safetensors"
        let directory = try shardedDirectory(weightMap: ["a": shard1, "b": shard1, "c": missing])
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        let path = directory.path + "/" + missing
        #expect(error == .fileNotFound(path: path))
        #expect(error.description.contains(path))
    }

    @Test(arguments: [
        (["a": shard1, "b": shard2, "c": shard2], "'b'"),  // listed for the wrong shard
        (["a": shard1, "c": shard2], "'b'"),  // in a shard, absent from weight_map
        (["a": shard1, "b": shard1, "c": shard2, "d": shard2], "'d'"),  // listed, absent from shard
    ])
    func rejectsWeightMapDisagreeingWithShards(weightMap: [String: String], tensor: String) throws {
        let directory = try shardedDirectory(weightMap: weightMap)
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        let reason = try #require(shardIndexReason(error, in: directory), "got \(error)")
        #expect(reason.contains(tensor))
        #expect(error.description.contains(tensor) && error.description.contains(indexName))
    }

    @Test func rejectsTensorStoredInTwoShards() throws {
        let directory = try shardedDirectory()
        try directory.write(
            SafeTensorsWriter.file([
                WrittenTensor("a", "F32", [1], littleEndianBytes([Float(9)])),
                WrittenTensor("c", "F16", [1], littleEndianBytes([UInt16(0xC400)])),
            ]), to: shard2)
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        let reason = try #require(shardIndexReason(error, in: directory), "got \(error)")
        #expect(reason.contains("'a'") && reason.contains("both"))
        #expect(error.description.contains("'a'"))
    }

    @Test(arguments: ["../model.safetensors", "sub/model.safetensors", "/etc/passwd", "..", "", "."])
    func rejectsShardNameOutsideDirectory(shard: String) throws {
        let directory = try shardedDirectory(weightMap: ["a": shard1, "b": shard1, "c": shard])
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        let reason = try #require(shardIndexReason(error, in: directory), "got \(error)")
        #expect(reason.contains("'c'"))
        #expect(error.description.contains(indexName))
    }

    @Test(arguments: [
        "not json",
        "[]",
        "{}",
        #"{"weight_map": {}}"#,
        #"{"weight_map": {"a": 1}}"#,
        #"{"weight_map": ["a"]}"#,
        #"{"metadata": 3, "weight_map": {"a": "model-00001-of-00002.safetensors"}}"#,
    ])
    func rejectsMalformedIndex(text: String) throws {
        let directory = try shardedDirectory()
        try directory.write(text: text, to: indexName)
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        #expect(shardIndexReason(error, in: directory) != nil, "got \(error)")
        #expect(error.description.contains(indexName))
    }

    @Test func reportsShardHeaderErrorsWithTheShardPath() throws {
        let directory = try shardedDirectory()
        let path = try directory.write(Array("short".utf8), to: shard2)
        let error = try #require(loadError { try Checkpoint(directory: directory.path) })
        #expect(error == .truncated(path: path, size: 5))
        #expect(error.description.contains(shard2))
    }
}
