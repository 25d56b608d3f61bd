/// Invalid arguments to a kernel that can come from a request rather than from the engine itself
/// (for example the flat output indices a client asks the multimodal decoder to compute).
///
/// Shape contracts between engine-internal buffers stay `precondition`s; this type covers values a caller
/// must validate and report.
public enum KernelError: Error, Equatable, Sendable {
    /// A flat index lies outside `0..<count` (`count` is the product of the index dimensions).
    case indexOutOfRange(index: Int, count: Int)
    /// An index dimension is negative, or the dimensions' product overflows `Int`.
    case invalidIndexDimensions([Int])
}

extension KernelError: CustomStringConvertible {
    /// One line naming the bad value.
    public var description: String {
        switch self {
        case .indexOutOfRange(let index, let count):
            return "index \(index) is out of range 0..<\(count)"
        case .invalidIndexDimensions(let dims):
            return "invalid index dimensions \(dims)"
        }
    }
}
