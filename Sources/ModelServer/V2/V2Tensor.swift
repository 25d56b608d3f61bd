/// One named tensor of a KServe V2 request or response, its data decoded to a flat array.
public struct V2Tensor: Sendable, Equatable {
    /// Flat row-major data in the type its datatype implies: integers for BOOL and the INT/UINT types,
    /// floats for the FP types and BF16, byte strings for BYTES.
    public enum Data: Sendable, Equatable {
        case integers([Int])
        case floats([Float])
        case bytes(ByteStrings)

        /// Number of elements.
        public var count: Int {
            switch self {
            case .integers(let values): return values.count
            case .floats(let values): return values.count
            case .bytes(let elements): return elements.count
            }
        }
    }

    public var name: String
    /// KServe V2 datatype: "INT64", "INT32", "FP32", "BYTES" (see `V2Datatype`).
    public var datatype: String
    public var shape: [Int]
    public var data: Data

    public init(name: String, datatype: String, shape: [Int], data: Data) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }
}
