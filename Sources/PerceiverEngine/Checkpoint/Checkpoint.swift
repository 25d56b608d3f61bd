// Zero-copy F32 reads hand out the file's little-endian bytes as native Floats.
#if _endian(big)
#error("Checkpoint assumes a little-endian host (safetensors data is little-endian)")
#endif

/// A model checkpoint in safetensors form: either `model.safetensors`, or shards listed by
/// `model.safetensors.index.json`, in one directory.
///
/// All files are read into memory (`LoadedFile`) and fully validated in `init`; afterwards the object is
/// immutable and can be shared across threads. F32 weights are served straight from the
/// loaded bytes; F16 and BF16 weights are converted on request.
public final class Checkpoint: @unchecked Sendable {
    private let tensors: [String: (file: SafeTensorsFile, entry: TensorEntry)]

    /// Names of all tensors, sorted.
    public let tensorNames: [String]
    /// Paths of the safetensors files (one, or the shards in file-name order).
    public let files: [String]
    /// The distinct dtypes stored in the checkpoint, sorted by raw value.
    public let storedDTypes: [DType]
    /// Total number of elements over all tensors ``floatTensor(_:)`` can read (F32, F16, BF16).
    public let totalParameterCount: Int

    /// Opens the checkpoint in `directory`.
    ///
    /// - Throws: ``ModelLoadError`` naming the file or tensor at fault: a missing
    ///   `model.safetensors` (when there is no index), an invalid index, or any problem in any
    ///   safetensors file.
    public init(directory: String) throws(ModelLoadError) {
        let indexPath = Self.join(directory, "model.safetensors.index.json")
        let opened: [SafeTensorsFile]
        if let indexFile = try Self.mapIfPresent(indexPath) {
            let index = try ShardIndex(bytes: indexFile.bytes, path: indexPath)
            opened = try Self.openShards(of: index, in: directory)
        } else {
            opened = [try SafeTensorsFile(path: Self.join(directory, "model.safetensors"))]
        }
        var tensors: [String: (file: SafeTensorsFile, entry: TensorEntry)] = [:]
        for file in opened {
            // Names are unique across files: a single file's header is a JSON object, and
            // ShardIndex.validate rejects a name stored in two shards.
            for entry in file.header.entries {
                tensors[entry.name] = (file, entry)
            }
        }
        self.tensors = tensors
        tensorNames = tensors.keys.sorted()
        files = opened.map(\.path)
        let entries = tensors.values.map(\.entry)
        storedDTypes = Set(entries.map(\.dtype)).sorted { $0.rawValue < $1.rawValue }
        // Each count is at most the tensor's byte length, so the sum is bounded by the total
        // size of the loaded files and cannot overflow.
        totalParameterCount = entries.filter(\.dtype.isLoadableAsFloat32)
            .reduce(0) { $0 + $1.elementCount }
    }

    /// The header entry for `name`, or nil if the checkpoint has no such tensor.
    public func info(_ name: String) -> TensorEntry? {
        tensors[name]?.entry
    }

    /// The tensor `name` as Floats.
    ///
    /// F32 data that is 4-byte aligned in memory is returned without copying (the result keeps
    /// the file loaded); unaligned F32 is copied; F16 and BF16 are converted exactly.
    ///
    /// - Throws: ``ModelLoadError/missingTensor(_:)`` for an unknown name,
    ///   ``ModelLoadError/wrongDType(tensor:expected:actual:)`` for any other dtype.
    public func floatTensor(_ name: String) throws(ModelLoadError) -> WeightTensor {
        guard let (file, entry) = tensors[name] else {
            throw .missingTensor(name)
        }
        let bytes = file.bytes(of: entry)
        switch entry.dtype {
        case .f32:
            // mmap returns page-aligned memory, so alignment depends only on 8 + N + begin;
            // Python's writer pads N to a multiple of 8, but other writers need not.
            if let base = bytes.baseAddress,
                Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0
            {
                let data = base.bindMemory(to: Float.self, capacity: entry.elementCount)
                return WeightTensor(shape: entry.shape, data: data, owner: file)
            }
            return Self.converted(entry, bytes, copyF32)
        case .f16:
            return Self.converted(entry, bytes, convertF16ToF32)
        case .bf16:
            return Self.converted(entry, bytes, convertBF16ToF32)
        case .f64, .i64, .i32, .i16, .i8, .u8, .bool:
            throw .wrongDType(tensor: name, expected: "F32, F16 or BF16", actual: entry.dtype.rawValue)
        }
    }

    /// The whole loaded file holding `name` (lets tests prove F32 reads are zero-copy).
    func loadedFileBytes(holding name: String) -> UnsafeRawBufferPointer? {
        tensors[name]?.file.contents.bytes
    }

    private static func converted(
        _ entry: TensorEntry, _ bytes: UnsafeRawBufferPointer,
        _ convert: (UnsafeRawBufferPointer, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> WeightTensor {
        let buffer = FloatBuffer(count: entry.elementCount)
        convert(bytes, buffer.pointer, entry.elementCount)
        return WeightTensor(shape: entry.shape, data: UnsafePointer(buffer.pointer), owner: buffer)
    }

    /// Opens every shard the index names, once each, and checks them against the index.
    private static func openShards(
        of index: ShardIndex, in directory: String
    ) throws(ModelLoadError) -> [SafeTensorsFile] {
        var shards: [String: SafeTensorsFile] = [:]
        for name in index.shardNames {
            shards[name] = try SafeTensorsFile(path: join(directory, name))
        }
        try index.validate(shards)
        return index.shardNames.compactMap { shards[$0] }
    }

    /// Maps `path`, or returns nil if it does not exist (other failures still throw).
    private static func mapIfPresent(_ path: String) throws(ModelLoadError) -> LoadedFile? {
        do throws(ModelLoadError) {
            return try LoadedFile(path: path)
        } catch {
            if case .fileNotFound = error {
                return nil
            }
            throw error
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty {
            return name
        }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
