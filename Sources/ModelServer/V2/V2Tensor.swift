/// One named tensor of a KServe V2 request or response, its data decoded to a flat array.
public struct V2Tensor: Sendable, Equatable {
    /// Flat row-major data in the type its datatype implies.
    public enum Data: Sendable, Equatable {
        case integers([Int])
        case floats([Float])
    }

    public var name: String
    /// KServe V2 datatype: "INT64", "INT32", "FP32".
    public var datatype: String
    public var shape: [Int]
    public var data: Data

    public init(name: String, datatype: String, shape: [Int], data: Data) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }

    /// The datatypes we accept for inputs, and whether each holds integers.
    static let integerTypes: Set<String> = ["INT64", "INT32", "INT16", "INT8", "UINT8", "UINT16", "UINT32", "UINT64"]
    static let floatTypes: Set<String> = ["FP32", "FP64", "FP16"]
}
