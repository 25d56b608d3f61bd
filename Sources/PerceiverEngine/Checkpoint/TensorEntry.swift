/// One tensor as described by a safetensors header, after validation.
public struct TensorEntry: Sendable, Equatable {
    /// The tensor's key in the header JSON.
    public let name: String
    /// The element type.
    public let dtype: DType
    /// Dimensions, outermost first; `[]` is a scalar. Every dimension is non-negative.
    public let shape: [Int]
    /// The tensor's bytes, relative to the start of the data section (safetensors
    /// `data_offsets` are `[begin, end)` measured from the byte after the header).
    public let byteRange: Range<Int>

    /// Number of elements (product of `shape`; 1 for a scalar). The header parser has already
    /// checked that this product does not overflow.
    public var elementCount: Int {
        shape.reduce(1, *)
    }
}
