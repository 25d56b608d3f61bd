/// Everything that can go wrong while loading a model directory: files, the safetensors container,
/// `config.json`, and the mapping of checkpoint tensors onto the architecture.
///
/// Each case carries the values that identify the problem; `description` turns them into one line
/// that names the file or tensor at fault.
public enum ModelLoadError: Error, Equatable, Sendable {
    /// A required file does not exist.
    case fileNotFound(path: String)
    /// A file exists but could not be opened, sized or read (`errno` from the failed call).
    case unreadable(path: String, errno: Int32)
    /// The file is shorter than the 8-byte header length prefix.
    case truncated(path: String, size: Int)
    /// The header length prefix points past the end of the file (or is absurdly large).
    case headerLengthPastEnd(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not the JSON object the safetensors format requires.
    case invalidHeader(path: String, reason: String)
    /// A tensor uses a dtype we cannot read.
    case unsupportedDType(tensor: String, dtype: String)
    /// A tensor's `data_offsets` are reversed or reach past the data section.
    case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors claim the same bytes.
    case overlappingTensors(String, String)
    /// `shape` x dtype size disagrees with the byte length given by `data_offsets`.
    case byteLengthMismatch(tensor: String, expected: Int, actual: Int)
    /// `model.safetensors.index.json` is malformed or names a shard that disagrees with it.
    case invalidShardIndex(path: String, reason: String)
    /// The architecture needs a tensor the checkpoint does not have.
    case missingTensor(String)
    /// The checkpoint has a tensor the architecture does not use.
    case unusedTensor(String)
    /// A tensor's shape disagrees with what `config.json` implies.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A tensor that must hold floating-point weights is stored with another dtype.
    case wrongDType(tensor: String, expected: String, actual: String)
    /// `config.json` is missing, malformed, or has an impossible value.
    case invalidConfig(key: String, reason: String)
    /// `preprocessor_config.json` is malformed or has a value the image pipeline cannot follow.
    case invalidPreprocessorConfig(key: String, reason: String)
    /// `architectures[0]` names a class this engine does not implement.
    case unknownArchitecture(String)
    /// The requested execution precision cannot run here: oneDNN refused to prepare a weight for it.
    case precisionUnavailable(precision: String, reason: String)
}

extension ModelLoadError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "model file not found: \(path)"
        case .unreadable(let path, let errno):
            return "cannot read \(path): errno \(errno)"
        case .truncated(let path, let size):
            return "\(path): file is truncated (\(size) bytes, a safetensors file needs at least 8)"
        case .headerLengthPastEnd(let path, let headerLength, let fileSize):
            return "\(path): header length \(headerLength) reaches past the end of the file (\(fileSize) bytes)"
        case .invalidHeader(let path, let reason):
            return "\(path): invalid safetensors header: \(reason)"
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)': unsupported dtype \(dtype) (expected F32, F16 or BF16)"
        case .offsetsOutOfRange(let tensor, let begin, let end, let dataSize):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] out of range (data section is \(dataSize) bytes)"
        case .overlappingTensors(let a, let b):
            return "tensors '\(a)' and '\(b)' overlap in the file"
        case .byteLengthMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)': shape and dtype need \(expected) bytes but data_offsets span \(actual)"
        case .invalidShardIndex(let path, let reason):
            return "\(path): invalid shard index: \(reason)"
        case .missingTensor(let name):
            return "checkpoint is missing tensor '\(name)'"
        case .unusedTensor(let name):
            return "checkpoint has tensor '\(name)' that the architecture does not use"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)': shape \(actual) but config implies \(expected)"
        case .wrongDType(let tensor, let expected, let actual):
            return "tensor '\(tensor)': dtype \(actual), expected \(expected)"
        case .invalidConfig(let key, let reason):
            return "config.json: '\(key)': \(reason)"
        case .invalidPreprocessorConfig(let key, let reason):
            return "preprocessor_config.json: '\(key)': \(reason)"
        case .precisionUnavailable(let precision, let reason):
            return "precision \(precision) cannot run on this machine: \(reason)"
        case .unknownArchitecture(let name):
            return "unknown architecture '\(name)' in config.json architectures[0]"
        }
    }
}
