/// Why a body could not be decoded or encoded.
public enum CompressionError: Error, Equatable, Sendable {
    /// The decoded content would be larger than `limit` bytes; decoding stopped there.
    case tooLarge(limit: Int)
    /// The bytes are not one valid stream of the coding: bad header, truncated, bad checksum, or bytes after
    /// the end of the stream. The string says which (zlib's message where it gives one).
    case corrupt(String)
    /// A compression level outside -1...9.
    case invalidLevel(Int32)
    /// zlib failed to start or ran out of memory; `code` is its return value (`Z_MEM_ERROR` is -4).
    case zlibFailure(function: String, code: Int32)

    /// The status a request body failing this way is answered with.
    public var status: Int {
        switch self {
        case .tooLarge: return 413
        case .corrupt: return 400
        case .invalidLevel, .zlibFailure: return 500
        }
    }
}

extension CompressionError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tooLarge(let limit): return "decoded content larger than the limit of \(limit) bytes"
        case .corrupt(let why): return "corrupt compressed content: \(why)"
        case .invalidLevel(let level): return "compression level \(level) is outside -1...9"
        case .zlibFailure(let function, let code): return "zlib \(function) failed with code \(code)"
        }
    }
}
