/// A dense row-major float32 array with its shape: inputs such as `pixel_values (B, 3, H, W)` and
/// outputs such as `logits (B, O, V)`.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// `shape.product` values in row-major order.
    public var scalars: [Float]

    /// A tensor over `scalars`; `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "Tensor: \(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// The number of elements.
    public var count: Int { scalars.count }
}

/// A dense row-major integer array: token ids, attention masks, output positions.
public struct IndexTensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// `shape.product` values in row-major order.
    public var values: [Int]

    /// A tensor over `values`; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "IndexTensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// Rows of a 2-D `(B, L)` tensor, each `L` long.
    var rows: [ArraySlice<Int>] {
        guard shape.count == 2 else { return [] }
        return (0..<shape[0]).map { values[($0 * shape[1])..<(($0 + 1) * shape[1])] }
    }
}

/// A float buffer of `count` elements without zero-filling it first (every caller overwrites it).
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// `values` concatenated `times` times: a per-model block of rows tiled over a batch.
func repeated<T>(_ values: [T], times: Int) -> [T] {
    guard times > 1 else { return values }
    var out = [T]()
    out.reserveCapacity(values.count * times)
    for _ in 0..<times { out.append(contentsOf: values) }
    return out
}
